"""The points page and member panel: what each role sees and may change."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Scope
from qunyun.community.audit import AuditEntry
from qunyun.community.models import PlatformAccount
from qunyun.points import service as ledger
from qunyun.points.models import PointsEntry
from tests.web.pages.conftest import Shop, csrf_of, signed_in_client


async def person(runtime: Runtime, user: str) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.platform_user_id == user))
        assert found is not None
        return found


@pytest.fixture
async def points(runtime: Runtime, shop: Shop) -> dict[str, int]:
    """Shanghai members s0 (30) and s1 (12), Beijing member b2 (50): {user: person id}."""
    found = {}
    async with runtime.sessions() as session:
        for user, amount in (("s0", 30), ("s1", 12), ("b2", 50)):
            found[user] = await person(runtime, user)
            await ledger.do_award(session, org_id=shop.org_id, community_id=shop.community_id,
                                  person_id=found[user], amount=amount, reason="message",
                                  key=f"test:{user}", at=runtime.clock.now(),
                                  group_id=shop.beijing if user == "b2" else shop.shanghai)
        await ledger.do_spend(session, org_id=shop.org_id, community_id=shop.community_id,
                              person_id=found["s1"], amount=2, reason="spend", key="test:spend",
                              at=runtime.clock.now())
        await session.commit()
    return found


@pytest.fixture
async def viewer(runtime: Runtime, shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    async with await signed_in_client(runtime, shop.org_id, "hq-viewer", "viewer") as client:
        yield client


@pytest.fixture
async def operator(runtime: Runtime, shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    scope = Scope(whole_org=False, stores=frozenset({"上海店"}))
    async with await signed_in_client(runtime, shop.org_id, "sh-operator", "operator",
                                      scope) as client:
        yield client


async def entry_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PointsEntry)) or 0)


async def balance(runtime: Runtime, shop: Shop, person_id: int) -> int:
    async with runtime.sessions() as session:
        got = await ledger.balance(session, community_id=shop.community_id, person_id=person_id)
        return got.balance


def balances_part(html: str) -> str:
    """The balances table of the page (the recent entries name members too)."""
    return html.split('id="balances"')[1].split("<h2>")[0]


async def test_the_page_shows_members_in_visible_groups(
        owner: httpx.AsyncClient, guide: httpx.AsyncClient, points: dict[str, int],
        shop: Shop) -> None:
    page = await owner.get(f"/engagement/points?community={shop.community_id}")
    assert page.status_code == 200
    html = page.text
    assert "上海会员0" in html and "北京会员2" in html
    assert html.index("北京会员2") < html.index("上海会员0") < html.index("上海会员1")
    assert "bridge:s0" in html and 'id="recompute"' in html
    mine = (await guide.get("/engagement/points")).text  # the guide's only community
    assert "上海会员0" in mine and "北京会员2" not in mine
    assert 'action="/engagement/points/import"' not in mine  # no CONFIGURE
    found = balances_part((await owner.get(
        f"/engagement/points?community={shop.community_id}&q=会员1")).text)
    assert "上海会员1" in found and "上海会员0" not in found
    by_lifetime = (await owner.get(
        f"/engagement/points?community={shop.community_id}&sort=lifetime")).text
    assert 'aria-sort="descending"' in by_lifetime
    assert (await owner.get("/engagement/points?community=99999")).status_code == 404
    hub = (await owner.get("/engagement")).text
    assert 'href="/engagement/points"' in hub


async def test_export_is_limited_to_visible_members(
        owner: httpx.AsyncClient, guide: httpx.AsyncClient, points: dict[str, int],
        shop: Shop) -> None:
    response = await guide.get(f"/engagement/points/export.csv?community={shop.community_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [(r["display_name"], r["balance"], r["lifetime_earned"]) for r in rows] == [
        ("上海会员0", "30", "30"), ("上海会员1", "10", "12")]
    everyone = (await owner.get(
        f"/engagement/points/export.csv?community={shop.community_id}")).text
    assert "北京会员2" in everyone


async def test_the_panel_and_adjusting(guide: httpx.AsyncClient, viewer: httpx.AsyncClient,
                                       runtime: Runtime, points: dict[str, int],
                                       shop: Shop) -> None:
    s1, b2 = points["s1"], points["b2"]
    panel = await guide.get(f"/members/{s1}/panels/points")
    assert panel.status_code == 200
    assert "米粉同城会" in panel.text and "points-adjust" in panel.text
    assert (await guide.get(f"/members/{b2}/panels/points")).status_code == 403
    seen = await viewer.get(f"/members/{b2}/panels/points")
    assert seen.status_code == 200 and "points-adjust" not in seen.text  # VIEW only
    token = csrf_of(panel.text)
    nonce = panel.text.split('name="nonce" value="')[1].split('"')[0]
    form = {"csrf_token": token, "community": str(shop.community_id), "amount": "5",
            "note": "到店消费奖励", "nonce": nonce}
    before = await entry_count(runtime)
    assert (await guide.post(f"/members/{s1}/panels/points/adjust",
                             data={**form, "csrf_token": "wrong"})).status_code == 403
    assert (await guide.post(f"/members/{b2}/panels/points/adjust",
                             data=form)).status_code == 403
    viewer_token = csrf_of((await viewer.get("/engagement/points")).text)
    assert (await viewer.post(f"/members/{s1}/panels/points/adjust",
                              data={**form, "csrf_token": viewer_token})).status_code == 403
    assert await entry_count(runtime) == before

    bad = await guide.post(f"/members/{s1}/panels/points/adjust",
                           data={**form, "amount": "-50", "note": ""},
                           headers={"HX-Request": "true"})
    assert bad.status_code == 200 and 'id="err-note"' in bad.text
    too_much = await guide.post(f"/members/{s1}/panels/points/adjust",
                                data={**form, "amount": "-50"})
    assert too_much.status_code == 422 and 'id="err-amount"' in too_much.text
    assert await entry_count(runtime) == before

    done = await guide.post(f"/members/{s1}/panels/points/adjust", data=form)
    assert done.status_code == 303 and done.headers["location"].endswith("#panel-points")
    again = await guide.post(f"/members/{s1}/panels/points/adjust", data=form,
                             headers={"HX-Request": "true"})  # the same form sent twice
    assert again.status_code == 200
    assert await balance(runtime, shop, s1) == 15
    async with runtime.sessions() as session:
        audit = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "points.adjust"))).all()
    assert [(a.actor, a.target_id, a.before["balance"], a.after["balance"]) for a in audit] == [
        ("staff:sh-guide", str(s1), 10, 15)]


async def test_import_needs_configure_and_a_good_file(
        owner: httpx.AsyncClient, guide: httpx.AsyncClient, runtime: Runtime,
        points: dict[str, int], shop: Shop) -> None:
    page = (await owner.get(f"/engagement/points?community={shop.community_id}")).text
    token = csrf_of(page)
    good = "account,amount,note\nbridge:s0,7,活动奖励\n".encode()
    files = {"file": ("points.csv", good, "text/csv")}
    data = {"csrf_token": token, "community": str(shop.community_id)}
    guide_token = csrf_of((await guide.get("/engagement/points")).text)
    refused = await guide.post("/engagement/points/import", files=files,
                               data={**data, "csrf_token": guide_token})
    assert refused.status_code == 403
    bad = await owner.post("/engagement/points/import", data=data, files={
        "file": ("bad.csv", b"account,amount\nbridge:s0,7\nbridge:ghost,x\n", "text/csv")})
    assert bad.status_code == 422
    assert "line 3" in bad.text or "第 3 行" in bad.text
    assert await balance(runtime, shop, points["s0"]) == 30
    done = await owner.post("/engagement/points/import", data=data, files=files)
    assert done.status_code == 303 and "imported=1" in done.headers["location"]
    assert (await owner.post("/engagement/points/import", data=data, files=files)
            ).headers["location"].count("imported=0") == 1
    assert await balance(runtime, shop, points["s0"]) == 37


async def test_recompute_preview(owner: httpx.AsyncClient, operator: httpx.AsyncClient,
                                 points: dict[str, int], shop: Shop) -> None:
    preview = await owner.get(f"/engagement/points/recompute?community={shop.community_id}",
                              headers={"HX-Request": "true"})
    assert preview.status_code == 200
    # No rule ever paid those test entries (no events behind them): all would go.
    assert "上海会员0" in preview.text and "-30" in preview.text
    scoped = await operator.get(f"/engagement/points/recompute?community={shop.community_id}")
    assert scoped.status_code == 403
