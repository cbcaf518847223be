"""The challenge pages: create and edit (CONFIGURE, scope, CSRF, audited, reminders scheduled),
the list, the board and each day's check-ins."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Scope
from qunyun.community.audit import AuditEntry
from qunyun.community.settings import do_set_layer
from qunyun.core.events import parse_event
from qunyun.features.challenge.models import Challenge
from qunyun.pipeline.models import ScheduledJob
from tests.factories import message
from tests.web.pages.conftest import Shop, csrf_of, signed_in_client

BASE = "/engagement/challenge"
FORM = {"name": "21天早起", "start_day": "2026-11-22", "end_day": "2026-11-28",
        "keyword": "早起打卡", "proof": "text", "reminder_hour": "20", "daily_points": "5",
        "completion_points": "50", "required_days": ""}


async def counts(runtime: Runtime) -> list[int]:
    async with runtime.sessions() as session:
        return [int(await session.scalar(select(func.count()).select_from(t).where(*w)) or 0)
                for t, w in ((Challenge, ()), (ScheduledJob, ()), (
                    AuditEntry, (AuditEntry.action.like("challenge.%"),)))]


async def create(client: httpx.AsyncClient, shop: Shop, **values: object) -> httpx.Response:
    token = csrf_of((await client.get(f"{BASE}/new")).text)
    data: dict[str, object] = {"csrf_token": token, "community": str(shop.community_id),
                               **FORM, **values}
    return await client.post(BASE, data=data)


async def test_create_check_in_and_follow(owner: httpx.AsyncClient, runtime: Runtime,
                                          shop: Shop) -> None:
    created = await create(owner, shop)
    assert created.status_code == 303
    async with runtime.sessions() as session:
        challenge = await session.scalar(select(Challenge))
        jobs = (await session.scalars(select(ScheduledJob))).all()
        audit = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "challenge.create"))
        await do_set_layer(session, org_id=shop.org_id, scope="organization",
                           scope_id=shop.org_id, feature="challenge", values={"enabled": True},
                           at=runtime.clock.now())
        await session.commit()
    assert challenge is not None and created.headers["location"] == f"{BASE}/{challenge.id}?saved=1"
    assert (challenge.name, challenge.keyword, challenge.group_ids) == ("21天早起", "早起打卡", [])
    assert audit is not None and audit.after is not None and audit.after["reminder_hour"] == 20
    # The next reminder, at 20:00 in Shanghai (12:00 UTC), in each of the community's groups.
    assert len(jobs) == 4 and {j.due_at.hour for j in jobs} == {12}
    await runtime.pipeline.process(shop.org_id, [parse_event(
        message("s1", "早起打卡 六点起床跑步", group="sh1", minutes=5))])
    page = (await owner.get(f"{BASE}/{challenge.id}")).text
    assert "上海会员1" in page and "六点起床跑步" in page and "1 / 7" in page
    listing = (await owner.get(BASE)).text
    assert "21天早起" in listing and "米粉同城会" in listing


async def test_bad_input_names_the_field(owner: httpx.AsyncClient, runtime: Runtime,
                                         shop: Shop) -> None:
    before = await counts(runtime)
    for values, field in (({"end_day": "2026-11-20"}, "end_day"),
                          ({"start_day": "tomorrow"}, "start_day"),
                          ({"keyword": "早起 打卡"}, "keyword"),
                          ({"required_days": "8"}, "required_days"),
                          ({"daily_points": "-1"}, "daily_points"),
                          ({"name": ""}, "name"),
                          ({"groups": "999"}, "groups")):
        refused = await create(owner, shop, **values)
        assert refused.status_code == 422, values
        assert f'id="err-{field}"' in refused.text, values
    assert await counts(runtime) == before


async def test_who_may_create(guide: httpx.AsyncClient, runtime: Runtime, shop: Shop) -> None:
    before = await counts(runtime)
    assert (await guide.get(f"{BASE}/new")).status_code == 403
    token = csrf_of((await guide.get(BASE)).text)
    refused = await guide.post(BASE, data={"csrf_token": token,
                                           "community": str(shop.community_id), **FORM})
    assert refused.status_code == 403
    scope = Scope(whole_org=False, groups=frozenset({shop.shanghai}))
    async with await signed_in_client(runtime, shop.org_id, "sh-operator", "operator",
                                      scope) as operator:
        whole = await create(operator, shop)
        assert whole.status_code == 403  # the whole community is not in its scope
        assert await counts(runtime) == before
        mine = await create(operator, shop, groups=str(shop.shanghai))
        assert mine.status_code == 303
        no_csrf = await operator.post(BASE, data={"community": str(shop.community_id), **FORM})
        assert no_csrf.status_code == 403


async def test_edit_and_archive(owner: httpx.AsyncClient, runtime: Runtime,
                                shop: Shop) -> None:
    await create(owner, shop, groups=str(shop.shanghai), reminder_hour="")
    async with runtime.sessions() as session:
        challenge = await session.scalar(select(Challenge))
    assert challenge is not None
    edit = (await owner.get(f"{BASE}/{challenge.id}/edit")).text
    assert 'value="早起打卡"' in edit
    changed = await owner.post(f"{BASE}/{challenge.id}", data={
        "csrf_token": csrf_of(edit), "community": str(shop.community_id),
        "groups": str(shop.shanghai), **FORM, "reminder_hour": "7", "status": "archived"})
    assert changed.status_code == 303
    async with runtime.sessions() as session:
        row = await session.get(Challenge, challenge.id)
        audit = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "challenge.update"))
        jobs = await session.scalar(select(func.count()).select_from(ScheduledJob))
    assert row is not None and (row.status, row.reminder_hour) == ("archived", 7)
    assert audit is not None and audit.before is not None and audit.before["status"] == "active"
    assert jobs == 0  # archived: no reminders
    assert "已归档" in (await owner.get(BASE)).text
