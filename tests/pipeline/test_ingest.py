"""Validation, dedupe and the event log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Membership, Person
from qunyun.features.stats.models import DailyStats
from qunyun.pipeline.models import EventRecord
from tests import factories as f


async def count(rt: Runtime, model: Any) -> int:
    async with rt.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_good_and_bad_events_in_one_batch(runtime: Runtime, org_id: int) -> None:
    bad_kind = f.message("u1", "hi")
    bad_kind["data"]["kind"] = "hologram"
    no_member = f.message("u1")
    del no_member["member"]
    bad_time = f.joined("u2")
    bad_time["at"] = "2026-11-22 08:00:00"
    batch = [f.joined("u1"), bad_kind, no_member, bad_time, "not an object", f.message("u1")]

    results = await runtime.pipeline.ingest(org_id, batch)

    assert [r.status for r in results] == ["accepted", "rejected", "rejected", "rejected",
                                           "rejected", "accepted"]
    reasons = [r.as_dict("en") for r in results]
    assert reasons[1]["errors"] == [{"path": "data.kind", "reason":
                                     "must be one of: text, image, voice, video, link, file, "
                                     "sticker, card, other"}]
    assert reasons[2]["errors"][0]["path"] == "member"
    assert reasons[3]["errors"][0]["path"] == "at"
    assert reasons[4]["reason"] == "an event must be a JSON object"
    assert await count(runtime, EventRecord) == 2
    assert await count(runtime, Person) == 1


async def test_every_problem_is_reported_at_once(runtime: Runtime, org_id: int) -> None:
    raw = {"v": 2, "id": "", "type": "member.exploded", "platform": "bridge", "at": 5,
           "data": []}
    [result] = await runtime.pipeline.ingest(org_id, [raw])
    paths = [e["path"] for e in result.as_dict("en")["errors"]]
    assert paths == ["v", "id", "type", "at", "data"]
    assert await count(runtime, EventRecord) == 0


async def test_reasons_are_chinese_by_default(runtime: Runtime, org_id: int) -> None:
    raw = f.message("u1")
    del raw["data"]["text"]
    [result] = await runtime.pipeline.ingest(org_id, [raw])
    assert result.as_dict()["errors"] == [{"path": "data.text", "reason": "为必填项"}]


async def test_duplicates_have_one_effect(runtime: Runtime, org_id: int) -> None:
    join, hello = f.joined("u1"), f.message("u1")
    first = await runtime.pipeline.ingest(org_id, [join, hello, hello])
    again = await runtime.pipeline.ingest(org_id, [join, hello])

    assert [r.status for r in first] == ["accepted", "accepted", "duplicate"]
    assert [r.status for r in again] == ["duplicate", "duplicate"]
    assert await count(runtime, EventRecord) == 2
    assert await count(runtime, Membership) == 1
    async with runtime.sessions() as session:
        day = await session.scalar(select(DailyStats))
    assert day is not None and (day.joins, day.messages) == (1, 1)


async def test_same_id_on_another_platform_is_another_event(runtime: Runtime,
                                                            org_id: int) -> None:
    a = f.message("u1", id="same")
    b = f.message("u1", id="same", platform="playground")
    results = await runtime.pipeline.ingest(org_id, [a, b])
    assert [r.status for r in results] == ["accepted", "accepted"]


async def test_the_log_keeps_the_canonical_event(runtime: Runtime, org_id: int) -> None:
    raw = f.message("u1", "签到", minutes=5)
    await runtime.pipeline.ingest(org_id, [raw])
    async with runtime.sessions() as session:
        record = await session.scalar(select(EventRecord))
    assert record is not None
    assert record.type == "message.posted" and record.external_id == raw["id"]
    assert '"text":"签到"' in record.body
    assert record.at.isoformat() == "2026-11-22T00:05:00+00:00"


async def test_values_too_long_for_storage_are_rejected(runtime: Runtime, org_id: int) -> None:
    long_name = f.joined("u1", name="名" * 201)
    bad_platform = f.message("u1", platform="Some Platform!")
    huge = f.event("group.created", member=None, name="大群", capacity=10**12)
    results = await runtime.pipeline.ingest(org_id, [long_name, bad_platform, huge])
    assert [r.as_dict("en")["errors"][0] for r in results] == [
        {"path": "data.name", "reason": "must be at most 200 characters"},
        {"path": "platform", "reason": "must be a platform name: lowercase letters, digits, "
                                       "- or _, at most 32 characters"},
        {"path": "data.capacity", "reason": "must be at most 1000000"}]
    assert await count(runtime, EventRecord) == 0
