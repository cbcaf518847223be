"""Staff accounts in the service layer: hashing, validation, scopes, and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import ACT, Principal, Scope, access_group
from qunyun.community.audit import AuditEntry, list_audit
from qunyun.community.service import do_create_community, do_create_group, do_create_organization
from qunyun.community.staff import StaffSession, StaffUser
from qunyun.community.staff_service import (
    cli_principal,
    do_create_staff,
    do_set_staff_disabled,
    do_update_staff,
)
from qunyun.community.staff_sessions import (
    hash_password,
    open_session,
    password_matches,
    staff_principal,
)
from qunyun.core.errors import Forbidden, InvalidInput, NotFound

PASSWORD = "correct horse battery"
SHANGHAI = Scope(whole_org=False, stores=frozenset({"上海店"}))


def test_passwords_are_hashed_with_argon2() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert password_matches(hashed, PASSWORD)
    assert not password_matches(hashed, PASSWORD + "!")
    assert not password_matches("not a hash", PASSWORD)


async def _groups(runtime: Runtime, org_id: int) -> dict[str, int]:
    async with runtime.sessions() as session:
        now = runtime.clock.now()
        made = {pid: (await do_create_group(session, org_id=org_id, platform="bridge",
                                            platform_id=pid, name=pid, at=now,
                                            store=store)).id
                for pid, store in (("sh1", "上海店"), ("bj1", "北京店"))}
        await session.commit()
        return made


async def _create(runtime: Runtime, org_id: int, username: str, role: str,
                  scope: Scope | None = None, by: Principal | None = None) -> StaffUser:
    async with runtime.sessions() as session:
        user = await do_create_staff(session, principal=by or cli_principal(org_id),
                                     username=username, password=PASSWORD, role=role,
                                     scope=scope or Scope(), at=runtime.clock.now())
        await session.commit()
        return user


async def _principal(runtime: Runtime, user: StaffUser) -> Principal:
    async with runtime.sessions() as session:
        return await staff_principal(session, user)


async def test_a_guide_reaches_her_store_only(runtime: Runtime, org_id: int) -> None:
    groups = await _groups(runtime, org_id)
    guide = await _principal(runtime, await _create(runtime, org_id, "guide", "guide", SHANGHAI))
    async with runtime.sessions() as session:
        other_org = await do_create_organization(session, name="别家", slug="other",
                                                 at=runtime.clock.now())
        foreign = await do_create_group(session, org_id=other_org.id, platform="bridge",
                                        platform_id="x", name="x", at=runtime.clock.now(),
                                        store="上海店")
        await session.commit()
        assert (await access_group(session, guide, groups["sh1"], ACT)).id == groups["sh1"]
        with pytest.raises(Forbidden):
            await access_group(session, guide, groups["bj1"])
        with pytest.raises(NotFound):
            await access_group(session, guide, foreign.id)


async def test_invalid_staff_is_refused_with_every_reason(runtime: Runtime, org_id: int) -> None:
    await _create(runtime, org_id, "taken", "viewer")
    async with runtime.sessions() as session:
        with pytest.raises(InvalidInput) as caught:
            await do_create_staff(session, principal=cli_principal(org_id), username="taken",
                                  password="short", role="guide", scope=Scope(),
                                  at=runtime.clock.now())
        paths = {e.path for e in caught.value.errors}
        assert paths == {"username", "password", "scope"}
        with pytest.raises(InvalidInput) as caught:
            await do_create_staff(session, principal=cli_principal(org_id), username="x y",
                                  password=PASSWORD, role="boss", at=runtime.clock.now(),
                                  scope=Scope(whole_org=False, communities=frozenset({999})))
        assert {e.path for e in caught.value.errors} == {"username", "role", "communities"}


async def _audit(runtime: Runtime, org_id: int) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        page = await list_audit(session, org_id=org_id)
        return [{"actor": e.actor, "action": e.action, "target": e.target_id,
                 "before": e.before, "after": e.after} for e in page.entries]


async def test_changes_are_audited_with_before_and_after(runtime: Runtime, org_id: int) -> None:
    groups = await _groups(runtime, org_id)
    boss = await _principal(runtime, await _create(runtime, org_id, "boss", "owner"))
    guide = await _create(runtime, org_id, "guide", "guide", SHANGHAI, by=boss)
    async with runtime.sessions() as session:
        await open_session(session, user=guide, at=runtime.clock.now())
        await do_update_staff(session, principal=boss, user_id=guide.id, role="operator",
                              scope=Scope(whole_org=False, groups=frozenset({groups["bj1"]})),
                              at=runtime.clock.now())
        await do_set_staff_disabled(session, principal=boss, user_id=guide.id, disabled=True,
                                    at=runtime.clock.now())
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(StaffSession)) == 0
    disabled, updated, created, first = await _audit(runtime, org_id)
    assert first["actor"] == "cli" and first["after"]["role"] == "owner"
    assert created["actor"] == "staff:boss" and created["before"] is None
    assert created["after"] == {"username": "guide", "display_name": "", "role": "guide",
                                "scope": {"communities": [], "stores": ["上海店"], "groups": []},
                                "disabled": False}
    assert updated["action"] == "staff.update"
    assert updated["before"]["role"] == "guide" and updated["after"]["role"] == "operator"
    assert updated["after"]["scope"]["groups"] == [groups["bj1"]]
    assert disabled["before"]["disabled"] is False and disabled["after"]["disabled"] is True


async def test_who_may_manage_staff(runtime: Runtime, org_id: int) -> None:
    admin = await _principal(runtime, await _create(runtime, org_id, "admin", "admin"))
    operator = await _principal(runtime, await _create(runtime, org_id, "ops", "operator"))
    owner = await _create(runtime, org_id, "owner", "owner")
    before = await _audit(runtime, org_id)
    async with runtime.sessions() as session:
        with pytest.raises(Forbidden):
            await do_create_staff(session, principal=operator, username="x", role="viewer",
                                  password=PASSWORD, scope=Scope(), at=runtime.clock.now())
        with pytest.raises(InvalidInput):
            await do_create_staff(session, principal=admin, username="x", role="owner",
                                  password=PASSWORD, scope=Scope(), at=runtime.clock.now())
        with pytest.raises(Forbidden):
            await do_set_staff_disabled(session, principal=admin, user_id=owner.id,
                                        disabled=True, at=runtime.clock.now())
        with pytest.raises(Forbidden):
            await do_update_staff(session, principal=admin, user_id=admin.user_id or 0,
                                  role="owner", scope=Scope(), at=runtime.clock.now())
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(StaffUser)) == 3
    assert await _audit(runtime, org_id) == before


async def test_another_organizations_staff_is_not_found(runtime: Runtime, org_id: int) -> None:
    boss = await _principal(runtime, await _create(runtime, org_id, "boss", "owner"))
    async with runtime.sessions() as session:
        other = await do_create_organization(session, name="别家", slug="other",
                                             at=runtime.clock.now())
        await do_create_community(session, org_id=other.id, name="c", at=runtime.clock.now())
        await session.commit()
    stranger = await _create(runtime, other.id, "stranger", "viewer")
    async with runtime.sessions() as session:
        with pytest.raises(NotFound):
            await do_set_staff_disabled(session, principal=boss, user_id=stranger.id,
                                        disabled=True, at=runtime.clock.now())
        count = await session.scalar(select(func.count()).select_from(AuditEntry)
                                     .where(AuditEntry.org_id == other.id))
        assert count == 1  # the creation by the command line only
