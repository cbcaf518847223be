"""QQ text history import: the 23 shared samples read with the messages, senders and texts of
the peer's expected parse; joins kept; imported events stored once and never acted on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.app.import_qq import import_qq_file
from qunyun.app.qq_text import read_transcript
from qunyun.cli.bench_import import QQ_SNAPSHOT, QQ_START
from qunyun.core.errors import InvalidInput
from qunyun.pipeline.models import ActionRecord, EventRecord
from tests.conftest import shared_data
from tests.platforms.onebot.conftest import stored

SAMPLES = ("chat_datasets", "qq_txt_export_samples")
JOINS = {"01": [("真核生物独幕剧", None)], "09": [("123", "守善锤"), ("猪突猛进", None)]}


def sample_text(path: Path) -> str:
    # The samples were cut out of JavaScript template literals, where `${" "}` wrote the
    # trailing space that mobile QQ puts after the time: restore what the literal meant.
    return path.read_text(encoding="utf-8").replace('${" "}', " ")


def expected_parse() -> dict[str, list[tuple[str, str | None, str]]]:
    """Per snapshot: (name, number, text) of each message, from the peer's Jest snapshot."""
    snap = (shared_data(*SAMPLES) / "log_painter_expected_parse.snap.txt").read_text("utf-8")
    parsed: dict[str, list[tuple[str, str | None, str]]] = {}
    for block in snap.split("exports[`")[1:]:
        name = block.split(" 1`]", 1)[0]
        lines: list[tuple[str, str | None, str]] = []
        for entry in block.split('"content": Array [')[1:]:
            content, _, rest = entry.partition("],")
            # Jest writes JS string literals inside a template literal, doubling backslashes.
            texts = [json.loads(x.strip().rstrip(",").replace("\\\\", "\\"))
                     for x in content.strip().splitlines() if x.strip()]
            player = re.search(r'"name": (".*?"),', rest)
            number = re.search(r'"number": (".*?"),', rest)
            assert player is not None
            lines.append((json.loads(player.group(1)).strip(),
                          json.loads(number.group(1)) if number else None, "\n".join(texts)))
        parsed[name] = lines
    return parsed


def sample_files() -> list[Path]:
    return sorted(p for p in shared_data(*SAMPLES).glob("[0-9][0-9]_*.txt"))


def test_all_23_samples_are_read_as_the_peer_reads_them() -> None:
    expected = expected_parse()
    files = sample_files()
    assert len(files) == 23
    for path in files:
        transcript = read_transcript(sample_text(path), QQ_START)
        messages = [(i.name, i.sender_id, i.text) for i in transcript.items
                    if i.kind == "message"]
        want = expected[QQ_SNAPSHOT[path.name[:2]]]
        assert messages == want, path.name
        assert len({(n, s) for n, s, _ in messages}) == len({(n, s) for n, s, _ in want})
        joins = [(i.name, i.inviter) for i in transcript.items if i.kind == "join"]
        assert joins == JOINS.get(path.name[:2], []), path.name


def test_times_follow_the_text() -> None:
    transcript = read_transcript(sample_text(shared_data(*SAMPLES) /
                                             "11_copied_from_chat_mixed_date_time_format.txt"))
    assert [str(i.at) for i in transcript.items] == [
        "2020-05-08 23:59:47", "2020-05-09 00:03:01", "2020-05-09 00:07:49"]  # past midnight
    with pytest.raises(ValueError, match="without a date"):
        read_transcript("丧 丧 熊 9:59:54 PM\n1\n")


async def test_import_counts_joins_and_idempotency(runtime: Runtime, tmp_path: Path) -> None:
    path = shared_data(*SAMPLES) / "01_exported_from_log_basic.txt"
    summary = await import_qq_file(runtime, path, group="61234567")
    assert summary.as_dict() == {"group": "61234567", "messages": 5, "senders": 4,
                                 "replies": 0, "joins": 1, "accepted": 6, "duplicate": 0,
                                 "rejected": 0, "reasons": []}
    again = await import_qq_file(runtime, path, group="61234567")
    assert (again.accepted, again.duplicate) == (0, 6)
    rows = await stored(runtime)
    assert all(r.imported and r.platform == "onebot" for r in rows)
    bodies = [orjson.loads(r.body) for r in rows]
    assert bodies[0]["member"] == "87200175" and bodies[0]["at"] == "2019-09-23T20:43:38+08:00"
    join = next(b for b in bodies if b["type"] == "member.joined")
    assert join["data"]["name"] == "真核生物独幕剧"


async def test_all_samples_import_with_their_own_counts(runtime: Runtime,
                                                        tmp_path: Path) -> None:
    expected = expected_parse()
    for number, path in enumerate(sample_files()):
        copy = tmp_path / path.name
        copy.write_text(sample_text(path), encoding="utf-8")
        summary = await import_qq_file(runtime, copy, group=str(70000 + number), start=QQ_START)
        want = expected[QQ_SNAPSHOT[path.name[:2]]]
        assert summary.messages == len(want), path.name
        assert summary.senders == len({(n, s) for n, s, _ in want}), path.name
        assert summary.replies == 0  # no sample quotes a message
        assert summary.rejected == 0 and summary.accepted == summary.messages + summary.joins


async def test_imported_history_is_never_acted_on(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "ping.txt"
    path.write_text("2026-01-05 9:00:00 AM 小王(5566778)\nping\n", encoding="utf-8")
    await import_qq_file(runtime, path, group="61234567")
    async with runtime.sessions() as session:
        assert (await session.scalars(select(ActionRecord.status))).all() == ["skipped"]
        assert (await session.scalars(select(EventRecord.imported))).all() == [True]


async def test_text_without_dates_needs_a_start(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "copied.txt"
    path.write_text("丧 丧 熊 9:59:54 PM\n1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="date"):
        await import_qq_file(runtime, path, group="61234567")
