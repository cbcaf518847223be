"""Delivery to WeCom: mass-send tasks within the monthly cap, welcome templates, staff tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.app.wecom import WecomConnector
from qunyun.core.actions import KICK_MEMBER, MUTE_MEMBER, SEND_MESSAGE, Action
from qunyun.core.clock import ManualClock
from qunyun.pipeline.models import ActionRecord, StaffTask
from qunyun.pipeline.outbox import PENDING, Outbox, OutboxEntry
from qunyun.platforms.wecom.platform import (
    CAP_REACHED,
    MASS_SEND_CREATED,
    WELCOME_TEMPLATE,
    monthly_cap,
)
from tests.platforms.wecom.conftest import CHAT
from tests.platforms.wecom.fake_wecom import FakeWecom


async def queue(runtime: Runtime, org_id: int, count: int, *, start: int = 0,
                caused_by: str = "evt") -> None:
    outbox = Outbox()
    for index in range(start, start + count):
        action = Action(id=f"a-{index}", type=SEND_MESSAGE, platform="wecom", group=CHAT,
                        member=None, caused_by=f"{caused_by}-{index}",
                        data={"text": f"早报 {index}"})
        outbox.add(OutboxEntry(action, org_id, None, "test", runtime.clock.now(), PENDING,
                               "zh_CN"))
    async with runtime.write_sessions() as session:
        await outbox.write(session)
        await session.commit()


async def deliver_all(runtime: Runtime, clock: ManualClock) -> None:
    """Delivery rounds until no action is pending (a task ends a group's round)."""
    for _ in range(500):
        async with runtime.sessions() as session:
            if await session.scalar(select(ActionRecord.seq)
                                    .where(ActionRecord.status == PENDING).limit(1)) is None:
                return
        wait = await runtime.delivery.run_once()
        clock.advance(timedelta(seconds=max(wait or 0.0, 1.0)))
    raise AssertionError("actions still pending")


async def tasks(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(StaffTask.reason).order_by(StaffTask.id)))


def test_monthly_cap_is_the_days_of_the_month_in_china() -> None:
    assert monthly_cap(datetime(2026, 11, 22, tzinfo=UTC))[0] == 30
    assert monthly_cap(datetime(2026, 2, 10, tzinfo=UTC))[0] == 28
    assert monthly_cap(datetime(2028, 2, 10, tzinfo=UTC))[0] == 29
    # 2026-11-30 17:00 UTC is already December 1st in China
    cap, start = monthly_cap(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    assert (cap, start.isoformat()) == (31, "2026-12-01T00:00:00+08:00")


async def test_capabilities(wecom: WecomConnector) -> None:
    capabilities = wecom.platform.capabilities
    assert SEND_MESSAGE in capabilities
    assert KICK_MEMBER not in capabilities and MUTE_MEMBER not in capabilities


async def test_mass_sends_stop_at_the_monthly_cap(runtime: Runtime, org_id: int,
                                                  wecom: WecomConnector, fake: FakeWecom,
                                                  clock: ManualClock) -> None:
    fake.add_group(CHAT, "g", "guide1", [])
    await queue(runtime, org_id, 32)
    await deliver_all(runtime, clock)
    assert len(fake.mass_sends) == 30  # November: 30 days
    assert {m["sender"] for m in fake.mass_sends} == {"guide1"}
    assert fake.mass_sends[0]["chat_id_list"] == [CHAT]
    assert fake.mass_sends[0]["text"] == {"content": "早报 0"}
    reasons = await tasks(runtime)
    assert reasons.count(MASS_SEND_CREATED) == 30  # each one: confirm it in WeCom
    assert reasons.count(CAP_REACHED) == 2  # past the cap: post by hand
    async with runtime.sessions() as session:
        statuses = set(await session.scalars(select(ActionRecord.status)))
    assert statuses == {"task"}
    # a new month: the cap starts again
    clock.set(datetime(2026, 11, 30, 16, 0, 1, tzinfo=UTC))
    await queue(runtime, org_id, 1, start=100)
    await deliver_all(runtime, clock)
    assert len(fake.mass_sends) == 31


async def test_welcome_becomes_a_group_welcome_template(runtime: Runtime, org_id: int,
                                                        wecom: WecomConnector, fake: FakeWecom,
                                                        clock: ManualClock) -> None:
    fake.add_group(CHAT, "g", "guide1", [])
    await queue(runtime, org_id, 1, caused_by=f"join:{CHAT}:wmA:v1")
    await deliver_all(runtime, clock)
    assert fake.mass_sends == []
    assert [b["text"]["content"] for b in fake.welcome_templates.values()] == ["早报 0"]
    assert await tasks(runtime) == [WELCOME_TEMPLATE]


async def test_quota_refusal_is_retried_later(runtime: Runtime, org_id: int,
                                              wecom: WecomConnector, fake: FakeWecom,
                                              clock: ManualClock) -> None:
    fake.add_group(CHAT, "g", "guide1", [])
    fake.per_minute = 0  # the corp's quota is used up elsewhere: every call gets 45009
    await queue(runtime, org_id, 1)
    await runtime.delivery.run_once()
    async with runtime.sessions() as session:
        row = await session.scalar(select(ActionRecord))
    assert row is not None and row.status == "pending" and "45009" in (row.last_error or "")
    fake.per_minute = 10_000
    fake.now += 3600
    await deliver_all(runtime, clock)
    assert len(fake.mass_sends) == 1
