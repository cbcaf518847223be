"""The weekly digest: scheduled once per group and week, posted at the local hour, right items.

The fixture clock starts on Sunday 2026-11-22 00:00Z (08:00 in Shanghai, ISO week 47); the
default digest goes out on Sundays at 20:00 local, 12:00Z.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.settings import COMMUNITY_SECTION
from qunyun.pipeline.models import ActionRecord, ScheduledJob
from qunyun.pipeline.playbook.apply import do_set_layer_values
from tests import factories as f
from tests.conftest import START
from tests.features.highlights.conftest import configure, group_id, set_role

DUE = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def reply(member: str, text: str, target: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return f.message(member, text, reply_to=target["data"]["message_id"], **kw)


async def speak_english(rt: Runtime, org: int, **community: str) -> None:
    async with rt.write_sessions() as session:
        await do_set_layer_values(session, rt.registry, org_id=org, scope="organization",
                                  scope_id=org, section=COMMUNITY_SECTION,
                                  values={"language": "en", **community}, at=START)
        await session.commit()


async def jobs(rt: Runtime) -> list[tuple[str, datetime, str]]:
    async with rt.sessions() as session:
        rows = await session.scalars(select(ScheduledJob).order_by(ScheduledJob.due_at))
        return [(j.key, j.due_at, j.status) for j in rows]


async def posts(rt: Runtime) -> list[str]:
    """Digest posts: messages of highlights that reply to nothing."""
    async with rt.sessions() as session:
        rows = await session.scalars(select(ActionRecord).where(
            ActionRecord.feature == "highlights").order_by(ActionRecord.seq))
        return [a.data["text"] for a in rows if "reply_to" not in a.data]


async def a_week_of_highlights(rt: Runtime, org: int) -> None:
    """Last week's highlight, two of this week's, and one unmarked again."""
    await rt.pipeline.ingest(org, [f.message("boss", "早", minutes=-8 * 24 * 60)])
    await set_role(rt, "boss", "admin")
    old = f.message("u1", "上周的精华", minutes=-8 * 24 * 60 + 1, name="老张")
    first = f.message("u1", "新品到店，周六试吃", minutes=1, name="小王")
    second = f.message("u2", "分享：如何挑选咖啡豆\n第一步……", minutes=2, name="Lily")
    dropped = f.message("u3", "后来取消的", minutes=3)
    await rt.pipeline.ingest(org, [old, reply("boss", "精华", old, minutes=-8 * 24 * 60 + 2)])
    await rt.pipeline.ingest(org, [
        first, second, dropped, reply("boss", "精华", second, minutes=10),
        reply("boss", "精华", first, minutes=11), reply("boss", "精华", dropped, minutes=12),
        reply("boss", "取消精华", dropped, minutes=13)])


async def test_the_digest_fires_once_at_the_local_hour(rt: Runtime, org: int) -> None:
    await speak_english(rt, org)
    await a_week_of_highlights(rt, org)
    gid = await group_id(rt)
    assert (f"digest:{gid}:2026-W47", DUE, "pending") in await jobs(rt)

    # Last week's digest went out when this week's first event came in.
    assert await posts(rt) == ["Highlights of the week · g1\nNov 8 – Nov 15 · highlights: 1\n"
                               "\n1. 老张 (Nov 14)\n上周的精华"]
    assert await rt.pipeline.tick(DUE - timedelta(minutes=1)) == 0
    assert await rt.pipeline.tick(DUE) == 1
    assert await rt.pipeline.tick(DUE + timedelta(hours=1)) == 0
    assert (await posts(rt))[1:] == [
        "Highlights of the week · g1\n"
        "Nov 15 – Nov 22 · highlights: 2\n"
        "\n1. Lily (Nov 22)\n分享：如何挑选咖啡豆 第一步……\n"
        "\n2. 小王 (Nov 22)\n新品到店，周六试吃"]
    # The next week's job waits.
    assert (f"digest:{gid}:2026-W48", DUE + timedelta(days=7), "pending") in await jobs(rt)


async def test_a_later_event_fires_the_digest_first(rt: Runtime, org: int) -> None:
    await a_week_of_highlights(rt, org)
    await rt.pipeline.ingest(org, [f.message("u9", "晚上好", minutes=12 * 60 + 30)])
    post = (await posts(rt))[-1]
    assert "小王" in post and "Lily" in post and "后来取消的" not in post
    assert "11月15日" in post and "11月22日" in post  # the group speaks Chinese
    async with rt.sessions() as session:
        action = await session.scalar(select(ActionRecord).where(
            ActionRecord.feature == "highlights", ActionRecord.caused_by.like("j%")))
    assert action is not None and "reply_to" not in action.data


async def test_a_quiet_week_ends_the_chain(rt: Runtime, org: int) -> None:
    await a_week_of_highlights(rt, org)
    await rt.pipeline.tick(DUE)
    assert await rt.pipeline.tick(DUE + timedelta(days=7)) == 1
    assert len(await posts(rt)) == 2
    assert [k for k, _, status in await jobs(rt) if status == "pending"] == []


async def test_the_weekday_hour_and_time_zone_come_from_the_settings(rt: Runtime,
                                                                     org: int) -> None:
    await speak_english(rt, org, timezone="Europe/Berlin")
    await configure(rt, org, digest_weekday=0, digest_hour=9)
    await a_week_of_highlights(rt, org)
    gid = await group_id(rt)
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert (f"digest:{gid}:2026-W48", monday, "pending") in await jobs(rt)
    await rt.pipeline.tick(monday)
    assert (await posts(rt))[-1].splitlines()[1] == "Nov 16 – Nov 23 · highlights: 2"


async def test_no_digest_job_when_it_is_not_posted(rt: Runtime, org: int) -> None:
    await configure(rt, org, digest_in_group=False)
    await a_week_of_highlights(rt, org)
    assert await jobs(rt) == []


async def test_a_digest_of_a_feature_turned_off_says_nothing(rt: Runtime, org: int) -> None:
    await a_week_of_highlights(rt, org)
    await configure(rt, org, enabled=False)
    assert await rt.pipeline.tick(DUE) == 1
    assert len(await posts(rt)) == 1  # only last week's, posted before
