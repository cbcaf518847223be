"""Settings → staff: create, change and disable staff; create and revoke tokens; all audited."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.audit import AuditEntry
from qunyun.community.models import ApiToken
from qunyun.community.staff import StaffUser
from tests.web.auth.conftest import (
    PASSWORD,
    Org,
    audit_count,
    csrf_of,
    dashboard_client,
    sign_in,
    signed_in,
)


async def staff_named(runtime: Runtime, username: str) -> StaffUser | None:
    async with runtime.sessions() as session:
        return await session.scalar(select(StaffUser).where(StaffUser.username == username))


async def last_audit(runtime: Runtime) -> AuditEntry:
    async with runtime.sessions() as session:
        entry = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert entry is not None
        return entry


async def test_an_owner_adds_a_guide_for_one_store(runtime: Runtime, org: Org,
                                                   staff: dict[str, int]) -> None:
    async with signed_in(runtime, "boss") as client:
        page = await client.get("/settings/staff")
        assert page.status_code == 200
        assert "sh-guide" in page.text and "上海店" in page.text
        response = await client.post("/settings/staff", data={
            "csrf_token": csrf_of(page.text), "username": "bj-guide", "display_name": "小北",
            "password": PASSWORD, "role": "guide", "scope": "chosen", "stores": ["北京店"]})
        assert response.status_code == 303
    user = await staff_named(runtime, "bj-guide")
    assert user is not None and user.role == "guide" and not user.whole_org
    entry = await last_audit(runtime)
    assert (entry.actor, entry.action, entry.target_id) == ("staff:boss", "staff.create",
                                                            str(user.id))
    assert entry.after is not None and entry.after["scope"]["stores"] == ["北京店"]
    async with signed_in(runtime, "bj-guide") as guide:
        assert (await guide.get("/account/password")).status_code == 200


async def test_a_bad_form_says_what_is_wrong_and_keeps_what_was_typed(
        runtime: Runtime, org: Org, staff: dict[str, int]) -> None:
    async with signed_in(runtime, "boss") as client:
        before = await audit_count(runtime)
        page = await client.get("/settings/staff", headers={"Accept-Language": "en"})
        response = await client.post("/settings/staff", headers={"Accept-Language": "en"}, data={
            "csrf_token": csrf_of(page.text), "username": "ops", "display_name": "重名的人",
            "password": "short", "role": "guide", "scope": "chosen",
            "groups": [str(org.beijing), "abc"]})
    assert response.status_code == 422
    assert "this username is taken" in response.text
    assert "must be at least 8 characters long" in response.text
    assert "not a number: abc" in response.text
    assert 'value="重名的人"' in response.text
    assert re.search(rf'<option value="{org.beijing}" selected>', response.text)
    assert await audit_count(runtime) == before


async def test_a_forbidden_change_is_403_and_writes_nothing(runtime: Runtime, org: Org,
                                                            staff: dict[str, int]) -> None:
    async with signed_in(runtime, "ops") as client:
        before = await audit_count(runtime)
        page = await client.get("/settings/staff")
        assert page.status_code == 403
        token = csrf_of(page.text)
        created = await client.post("/settings/staff", data={
            "csrf_token": token, "username": "sneaky", "password": PASSWORD, "role": "owner"})
        assert created.status_code == 403
        disabled = await client.post(f"/settings/staff/{staff['boss']}/disable",
                                     data={"csrf_token": token})
        assert disabled.status_code == 403
        minted = await client.post("/settings/tokens", data={
            "csrf_token": token, "name": "t", "kind": "api", "role": "admin"})
        assert minted.status_code == 403
        assert (await client.get("/audit")).status_code == 403
    assert await staff_named(runtime, "sneaky") is None
    boss = await staff_named(runtime, "boss")
    assert boss is not None and boss.disabled_at is None
    assert await audit_count(runtime) == before
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ApiToken)) == 0


async def test_role_and_scope_changes_and_disabling(runtime: Runtime, org: Org,
                                                   staff: dict[str, int]) -> None:
    async with signed_in(runtime, "sh-guide") as guide, signed_in(runtime, "boss") as boss:
        guide_id = staff["sh-guide"]
        page = await boss.get(f"/settings/staff/{guide_id}")
        assert page.status_code == 200 and 'value="上海店" selected' in page.text
        token = csrf_of(page.text)
        changed = await boss.post(f"/settings/staff/{guide_id}", data={
            "csrf_token": token, "display_name": "小上", "role": "operator", "scope": "chosen",
            "communities": [str(org.community_id)]})
        assert changed.status_code == 303
        entry = await last_audit(runtime)
        assert entry.before is not None and entry.after is not None
        assert (entry.before["role"], entry.after["role"]) == ("guide", "operator")
        assert entry.after["scope"]["communities"] == [org.community_id]

        invalid = await boss.post(f"/settings/staff/{guide_id}", data={
            "csrf_token": token, "role": "guide", "scope": "org"})
        assert invalid.status_code == 422 and "aria-invalid" not in invalid.text.split(
            "scope-fields")[0]

        off = await boss.post(f"/settings/staff/{guide_id}/disable", data={"csrf_token": token})
        assert off.status_code == 303
        assert (await guide.get("/account/password")).status_code == 303
    async with dashboard_client(runtime) as client:
        assert (await sign_in(client, "sh-guide")).status_code == 401


async def test_tokens_are_shown_once_scoped_and_revocable(runtime: Runtime, org: Org,
                                                          staff: dict[str, int]) -> None:
    async with signed_in(runtime, "boss") as client:
        page = await client.get("/settings/staff")
        token = csrf_of(page.text)
        created = await client.post("/settings/tokens", data={
            "csrf_token": token, "name": "上海店报表", "kind": "api", "role": "viewer",
            "scope": "chosen", "stores": ["上海店"]})
        assert created.status_code == 200
        secret = re.search(r'id="new-token">([^<]+)<', created.text)
        assert secret is not None
        api = {"Authorization": f"Bearer {secret.group(1)}"}
        groups = await client.get("/api/v1/groups", headers=api)
        assert groups.status_code == 200
        assert {g["id"] for g in groups.json()["items"]} == {org.shanghai, org.popup}
        assert (await client.get(f"/api/v1/groups/{org.beijing}", headers=api)).status_code == 403
        again = await client.get("/settings/staff")
        assert secret.group(1) not in again.text

        async with runtime.sessions() as session:
            row = await session.scalar(select(ApiToken))
            assert row is not None and row.role == "viewer"
        revoked = await client.post(f"/settings/tokens/{row.id}/revoke",
                                    data={"csrf_token": token})
        assert revoked.status_code == 303
        assert (await client.get("/api/v1/groups", headers=api)).status_code == 401
    entry = await last_audit(runtime)
    assert entry.action == "token.revoke" and entry.after is not None
    assert entry.after["revoked"] is True and entry.before == {**entry.after, "revoked": False}


async def test_a_token_form_with_errors_keeps_its_values(runtime: Runtime, org: Org,
                                                         staff: dict[str, int]) -> None:
    async with signed_in(runtime, "boss") as client:
        page = await client.get("/settings/staff", headers={"Accept-Language": "en"})
        response = await client.post("/settings/tokens", headers={"Accept-Language": "en"},
                                     data={"csrf_token": csrf_of(page.text), "name": " ",
                                           "kind": "api", "role": "guide", "scope": "org"})
    assert response.status_code == 422
    assert "a token needs a name" in response.text
    assert "a guide works on chosen communities, stores or groups" in response.text
