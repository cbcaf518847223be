"""Importing the 14 real Telegram Desktop exports: counts equal the files' own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.app.import_telegram import import_telegram_export
from qunyun.community.models import Group
from qunyun.core.errors import InvalidInput
from qunyun.pipeline.models import ActionRecord, EventRecord
from tests.conftest import shared_data

EXPORTS = "telegram", "desktop_exports_tgif"


def export_files() -> list[Path]:
    return sorted(shared_data(*EXPORTS).glob("*__exported.json"))


def own_counts(path: Path) -> dict[str, Any]:
    """Counted straight from the file, independently of the importer."""
    messages = json.loads(path.read_text(encoding="utf-8"))["messages"]
    plain = [m for m in messages if m["type"] == "message"]
    return {"messages": len(plain), "senders": len({m["from_id"] for m in plain}),
            "replies": sum(1 for m in plain if "reply_to_message_id" in m)}


async def stored_counts(runtime: Runtime, org_id: int, group: str) -> dict[str, Any]:
    async with runtime.sessions() as session:
        group_id = await session.scalar(select(Group.id).where(
            Group.org_id == org_id, Group.platform == "telegram", Group.platform_id == group))
        rows = (await session.execute(select(EventRecord.person_id, EventRecord.body,
                                             EventRecord.imported)
                                      .where(EventRecord.group_id == group_id,
                                             EventRecord.type == "message.posted"))).all()
    bodies = [orjson.loads(body) for _, body, _ in rows]
    assert all(imported for _, _, imported in rows)
    return {"messages": len(rows), "senders": len({person for person, _, _ in rows}),
            "replies": sum(1 for b in bodies if "reply_to" in b["data"])}


async def test_every_export_imports_with_its_own_counts(runtime: Runtime, org_id: int) -> None:
    files = export_files()
    assert len(files) == 14
    totals = {"messages": 0, "replies": 0}
    for path in files:
        summary = await import_telegram_export(runtime, org_id, path, timezone="Asia/Jakarta")
        expected = own_counts(path)
        assert summary.rejected == 0, summary.reasons
        assert {k: summary.as_dict()[k] for k in expected} == expected, path.name
        totals["messages"] += expected["messages"]
        totals["replies"] += expected["replies"]
    # Several exports share one group (the same supergroup): count in the log per group.
    groups = {json.loads(p.read_text(encoding="utf-8"))["id"] for p in files}
    stored = {"messages": 0, "replies": 0}
    for chat in groups:
        counts = await stored_counts(runtime, org_id, f"-100{chat}")
        stored["messages"] += counts["messages"]
        stored["replies"] += counts["replies"]
    assert stored == totals == {"messages": 1179, "replies": 555}


async def test_both_generations_give_exact_times(runtime: Runtime, org_id: int) -> None:
    new = shared_data(*EXPORTS, "coorporate-speak__exported.json")
    old = shared_data(*EXPORTS, "oop__exported.json")
    await import_telegram_export(runtime, org_id, new)
    await import_telegram_export(runtime, org_id, old, timezone="Asia/Jakarta")
    async with runtime.sessions() as session:
        first_new = await session.scalar(select(EventRecord.body).where(
            EventRecord.external_id == "m:-1001712691810:10821"))
        first_old = await session.scalar(select(EventRecord.body).where(
            EventRecord.external_id == "m:-1001712691810:95364"))
    assert first_new and first_old
    # date_unixtime 1654418579 is exact; "2022-09-16T21:03:57" is Jakarta time (UTC+7).
    assert orjson.loads(first_new)["at"] == "2022-06-05T08:42:59+00:00"
    assert orjson.loads(first_old)["at"] == "2022-09-16T21:03:57+07:00"
    body = orjson.loads(first_new)
    assert body["member"] == "1168523623"  # "from": null, from_id still names the sender
    assert body["data"]["urls"] == ["https://howtoprofessionallysay.akashrajpurohit.com/"]
    assert body["imported"] is True


async def test_importing_twice_has_one_effect_and_delivers_nothing(
        runtime: Runtime, org_id: int) -> None:
    path = shared_data(*EXPORTS, "oop__exported.json")
    first = await import_telegram_export(runtime, org_id, path)
    again = await import_telegram_export(runtime, org_id, path)
    assert first.accepted == again.duplicate and again.accepted == 0
    async with runtime.sessions() as session:
        pending = (await session.scalars(select(ActionRecord.status))).all()
    assert "pending" not in pending


async def test_service_messages_become_joins_and_leaves(runtime: Runtime, org_id: int,
                                                        tmp_path: Path) -> None:
    export = {"name": "G", "type": "private_group", "id": 555, "messages": [
        {"id": 1, "type": "service", "date": "2024-01-01T10:00:00",
         "date_unixtime": "1704103200", "actor": "Ann", "actor_id": "user1",
         "action": "join_group_by_link", "text": ""},
        {"id": 2, "type": "service", "date": "2024-01-01T10:01:00", "actor": "Ann",
         "actor_id": "user1", "action": "invite_members", "members": ["Bob", "Ann"], "text": ""},
        {"id": 3, "type": "service", "date": "2024-01-01T10:02:00", "actor": "Ann",
         "actor_id": "user1", "action": "remove_members", "members": ["Bob"], "text": ""},
        {"id": 4, "type": "service", "date": "2024-01-01T10:03:00", "actor": "Ann",
         "actor_id": "user1", "action": "pin_message", "text": ""},
        {"id": 5, "type": "message", "date": "2024-01-01T10:04:00", "from": None,
         "from_id": "user1", "text": ["hi ", {"type": "mention_name", "text": "Bob",
                                              "user_id": 2}]},
    ]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    summary = await import_telegram_export(runtime, org_id, path)
    assert (summary.joins, summary.leaves, summary.messages, summary.skipped) == (3, 1, 1, 1)
    async with runtime.sessions() as session:
        bodies = [orjson.loads(b) for b in (await session.scalars(
            select(EventRecord.body).order_by(EventRecord.seq))).all()]
    joined = [b for b in bodies if b["type"] == "member.joined"]
    assert [b["member"] for b in joined] == ["1", "name:Bob", "1"]
    assert joined[1]["data"] == {"name": "Bob", "via": "invite", "inviter": "1"}
    left = next(b for b in bodies if b["type"] == "member.left")
    assert left["data"] == {"reason": "kicked", "by": "1"}
    posted = next(b for b in bodies if b["type"] == "message.posted")
    assert posted["group"] == "-555" and posted["data"]["mentions"] == ["2"]
    assert posted["data"]["text"] == "hi Bob"


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"name": "x"}'])
async def test_a_file_that_is_not_an_export_is_refused(runtime: Runtime, org_id: int,
                                                       tmp_path: Path, content: str) -> None:
    path = tmp_path / "result.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput):
        await import_telegram_export(runtime, org_id, path)
    async with runtime.sessions() as session:
        assert (await session.scalars(select(EventRecord.seq))).first() is None
