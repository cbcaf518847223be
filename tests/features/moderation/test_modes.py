"""Modes: all-mute (only the speaker roles talk; the platform's mute-all switched once on and
once off) and quiet hours driven by scheduled jobs in the community's time zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from qunyun.community.models import Membership
from qunyun.community.settings import do_set_layer
from qunyun.core.actions import DELETE_MESSAGE, MUTE_ALL, SEND_MESSAGE
from qunyun.core.clock import ManualClock
from qunyun.core.features import JobRequest
from qunyun.features.moderation.modes import MODE_SYNC, in_quiet_hours, next_boundary
from qunyun.features.moderation.settings import NightMode
from qunyun.pipeline.models import ActionRecord
from tests import factories as f
from tests.conftest import START
from tests.features.moderation.test_handlers import SEEN, moderation_chat
from tests.features.redpacket.conftest import Chat

SHANGHAI = "Asia/Shanghai"  # START is 08:00 there


@pytest.fixture
async def chat(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Chat]:
    SEEN.clear()
    made = await moderation_chat(database_url, tmp_path, clock)
    await made.join("teacher", "u1", minutes=-3 * 24 * 60)
    person = await made.person("teacher")
    async with made.rt.write_sessions() as session:
        await session.execute(update(Membership).where(Membership.person_id == person)
                              .values(role="expert"))
        await session.commit()
    yield made
    await made.rt.close()


async def set_moderation(chat: Chat, **values: Any) -> None:
    async with chat.rt.write_sessions() as session:
        await do_set_layer(session, org_id=chat.org, scope="organization", scope_id=chat.org,
                           feature="moderation", values={"enabled": True, **values}, at=START)
        await session.commit()


async def actions(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
    async with chat.rt.sessions() as session:
        rows = await session.scalars(select(ActionRecord).order_by(ActionRecord.seq))
        return [(r.type, dict(r.data)) for r in rows]


async def say(chat: Chat, member: str, text: str, minutes: float) -> None:
    await chat.rt.pipeline.ingest(chat.org, [f.message(member, text, minutes=minutes)])


async def test_all_mute_lets_only_the_speakers_talk(chat: Chat) -> None:
    await set_moderation(chat, all_mute={"enabled": True})
    await say(chat, "teacher", "今天讲社群运营", 1)
    await say(chat, "u1", "老师好", 2)
    done = await actions(chat)
    assert done[0] == (MUTE_ALL, {"on": True})
    assert done[1][0] == SEND_MESSAGE and "All-mute is on" in done[1][1]["text"]
    assert done[2][0] == DELETE_MESSAGE  # the member's message
    assert SEEN == ["今天讲社群运营"]
    await set_moderation(chat, all_mute={"enabled": False})
    await say(chat, "u1", "下课啦", 3)
    done = await actions(chat)
    assert done[3] == (MUTE_ALL, {"on": False}) and "All-mute is off" in done[4][1]["text"]
    assert len(done) == 5 and SEEN[-1] == "下课啦"
    assert sum(1 for kind, _ in done if kind == MUTE_ALL) == 2  # switched once each way


async def test_all_mute_without_the_platform_switch_deletes_only(chat: Chat) -> None:
    await set_moderation(chat, all_mute={"enabled": True, "use_platform": False})
    await say(chat, "u1", "老师好", 1)
    kinds = [kind for kind, _ in await actions(chat)]
    assert kinds == [SEND_MESSAGE, DELETE_MESSAGE]


async def test_quiet_hours_start_and_end_by_scheduled_jobs(chat: Chat) -> None:
    await set_moderation(chat, night={"enabled": True, "start": "23:00", "end": "07:00"})
    await say(chat, "u1", "早", 1)  # 08:01 local: not quiet; plans 23:00 (15:00 UTC)
    assert await actions(chat) == []
    await chat.tick(START + timedelta(hours=15))
    done = await actions(chat)
    assert done[0] == (MUTE_ALL, {"on": True}) and "Quiet hours have begun" in done[1][1]["text"]
    await say(chat, "u1", "睡不着", 16 * 60)
    await say(chat, "teacher", "早点休息", 16 * 60 + 1)
    assert [k for k, _ in await actions(chat)][2:] == [DELETE_MESSAGE]
    await chat.tick(START + timedelta(hours=23))  # 07:00 local
    done = await actions(chat)
    assert done[-2] == (MUTE_ALL, {"on": False}) and "Quiet hours are over" in done[-1][1]["text"]
    await chat.tick(START + timedelta(hours=39))  # the next evening: the chain goes on
    assert (await actions(chat))[-2] == (MUTE_ALL, {"on": True})


def test_quiet_hours_across_midnight_in_local_time() -> None:
    night = NightMode(enabled=True, start="23:00", end="07:00")
    at = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert in_quiet_hours(night, at, SHANGHAI)
    assert not in_quiet_hours(night, at, "Europe/Berlin")  # 16:30 there
    assert next_boundary(night, at, SHANGHAI) == ("night.end",
                                                  datetime(2026, 11, 22, 23, 0, tzinfo=UTC))
    day = NightMode(enabled=True, start="12:00", end="14:00")
    assert in_quiet_hours(day, datetime(2026, 11, 22, 5, 0, tzinfo=UTC), SHANGHAI)


async def test_turning_moderation_off_lifts_the_mute_it_set(chat: Chat) -> None:
    await set_moderation(chat, all_mute={"enabled": True})
    await say(chat, "u1", "老师好", 1)
    async with chat.rt.write_sessions() as session:
        await do_set_layer(session, org_id=chat.org, scope="organization", scope_id=chat.org,
                           feature="moderation",
                           values={"enabled": False, "all_mute": {"enabled": True}}, at=START)
        await session.commit()
    group = await chat.group()
    async with chat.rt.write_sessions() as session:  # what saving on the dashboard schedules
        await chat.rt.pipeline.scheduler.add(
            session, org_id=chat.org, group_id=group, feature="moderation",
            request=JobRequest(MODE_SYNC, START + timedelta(minutes=2), {}, key="sync"),
            caused_by="dashboard:test")
        await session.commit()
    chat.rt.pipeline.scheduler.forget()
    await chat.tick(START + timedelta(minutes=3))
    assert (await actions(chat))[-2] == (MUTE_ALL, {"on": False})
