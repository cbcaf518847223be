"""`qunyun bench import`: chat-history imports checked against the files' own counts.

Telegram: each of the Desktop exports is imported; the counts in the event log afterwards
(messages, distinct senders, replies) are compared with the counts read straight from the JSON.
QQ: each text sample is imported; its messages and distinct senders are compared with the
expected parse published with the samples (a Jest snapshot of the peer parser that produced
them); QQ text carries no reply links, so replies must be 0. Times are measured and printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.app.import_qq import import_qq_file
from qunyun.app.import_telegram import group_id_of, import_telegram_export, read_export
from qunyun.cli.bench import backend, fresh_database, show
from qunyun.cli.common import JsonOption
from qunyun.cli.common import run as run_command
from qunyun.community.models import Group
from qunyun.core.config import Config
from qunyun.core.i18n import gettext
from qunyun.pipeline.models import EventRecord

# The shared test data, next to the project's checkout (or QUNYUN_TESTDATA).
DEFAULT_TESTDATA = Path("..") / "shared" / "testdata"
QQ_START = date(2020, 1, 1)  # for the samples whose text has times but no date
# Sample file number → the name of its block in the peer's snapshot.
QQ_SNAPSHOT = {
    "01": "exported from log basic", "02": "exported from log email",
    "03": "exported from log Private chat", "04": "copied from chat basic: time format",
    "05": "copied from chat basic: datetime format", "06": "copied from chat without title",
    "07": "copied from chat instant withdraw", "08": "copied from chat single date",
    "09": "copied from chat other system messages",
    "10": "copied from chat date format without AM|PM",
    "11": "copied from chat mixed date-time format",
    "12": "copied from chat datetime with day-of-week",
    "13": "copied from chat simplest datetime with day-of-week",
    "14": "copied from chat Private chat", "15": "copied from message manager basic",
    "16": "copied from message manager without title",
    "17": "copied from message manager Chinese time",
    "18": "copied from message manager system messages", "19": "copied from mobile basic",
    "20": "copied from mobile filter dates", "21": "shiki's log record basic",
    "22": "reparse log with angular brackets basic",
    "23": "reparse log with bold brackets basic",
}


def listing(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


def telegram_own_counts(path: Path) -> dict[str, Any]:
    messages = [m for m in json.loads(path.read_text(encoding="utf-8"))["messages"]
                if m.get("type") == "message"]
    return {"messages": len(messages), "senders": {m["from_id"] for m in messages},
            "replies": sum(1 for m in messages if "reply_to_message_id" in m)}


async def stored_counts(runtime: Runtime, org_id: int, platform: str,
                        group: str) -> dict[str, Any]:
    """Messages, distinct senders and replies in the event log for one group."""
    async with runtime.sessions() as session:
        group_id = await session.scalar(select(Group.id).where(
            Group.org_id == org_id, Group.platform == platform, Group.platform_id == group))
        rows = (await session.execute(
            select(EventRecord.body).where(EventRecord.group_id == group_id,
                                           EventRecord.type == "message.posted"))).all()
    bodies = [orjson.loads(body) for (body,) in rows]
    return {"messages": len(bodies), "senders": {b["member"] for b in bodies},
            "replies": sum(1 for b in bodies if "reply_to" in b["data"])}


async def bench_telegram_exports(runtime: Runtime, org_id: int, folder: Path) -> dict[str, Any]:
    files = listing(folder, "*__exported.json")
    own: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"messages": 0, "senders": set(), "replies": 0})
    started = time.perf_counter()
    for path in files:
        await import_telegram_export(runtime, org_id, path, timezone="Asia/Jakarta")
        counts, total = telegram_own_counts(path), own[group_id_of(read_export(path))]
        total["messages"] += counts["messages"]
        total["replies"] += counts["replies"]
        total["senders"] |= {sender.removeprefix("user") for sender in counts["senders"]}
    elapsed = time.perf_counter() - started
    matches = 0
    sums: dict[str, Any] = {"messages": 0, "replies": 0, "senders": set()}
    for group, expected in own.items():
        stored = await stored_counts(runtime, org_id, "telegram", group)
        matches += stored == expected
        sums["messages"] += stored["messages"]
        sums["replies"] += stored["replies"]
        sums["senders"] |= stored["senders"]
    return {"telegram_files": len(files), "telegram_groups": len(own),
            "telegram_groups_matching": matches, "telegram_messages": sums["messages"],
            "telegram_replies": sums["replies"], "telegram_senders": len(sums["senders"]),
            "telegram_seconds": round(elapsed, 2)}


def qq_expected(snapshot: Path) -> dict[str, tuple[int, int]]:
    """Per snapshot block: (messages, distinct senders) of the peer's expected parse."""
    expected: dict[str, tuple[int, int]] = {}
    for block in snapshot.read_text(encoding="utf-8").split("exports[`")[1:]:
        name = block.split(" 1`]", 1)[0]
        senders = set()
        entries = block.split('"content": Array [')[1:]
        for entry in entries:
            rest = entry.partition("],")[2]
            player = re.search(r'"name": (".*?"),', rest)
            number = re.search(r'"number": (".*?"),', rest)
            senders.add((json.loads(player.group(1)).strip() if player else "",
                         json.loads(number.group(1)) if number else None))
        expected[name] = (len(entries), len(senders))
    return expected


async def bench_qq_samples(runtime: Runtime, folder: Path, workdir: Path) -> dict[str, Any]:
    expected = qq_expected(folder / "log_painter_expected_parse.snap.txt")
    files = listing(folder, "[0-9][0-9]_*.txt")
    matches = messages = replies = 0
    started = time.perf_counter()
    for number, path in enumerate(files):
        # The samples were cut from JavaScript template literals: `${" "}` meant one space.
        copy = workdir / path.name
        copy.write_text(path.read_text(encoding="utf-8").replace('${" "}', " "),
                        encoding="utf-8")
        summary = await import_qq_file(runtime, copy, group=str(70000 + number),
                                       start=QQ_START)
        want = expected[QQ_SNAPSHOT[path.name[:2]]]
        matches += (summary.messages, summary.senders, summary.replies) == (*want, 0)
        messages += summary.messages
        replies += summary.replies
    return {"qq_files": len(files), "qq_files_matching": matches, "qq_messages": messages,
            "qq_replies": replies, "qq_seconds": round(time.perf_counter() - started, 2)}


async def measure_import(testdata: Path, server: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        async with fresh_database(server, Path(workdir)) as url:
            runtime = await build_runtime(Config(data_dir=Path(workdir), database_url=url))
            try:
                org_id = await ensure_default_org(runtime.write_sessions,
                                                  runtime.clock.now())
                figures: dict[str, Any] = {"benchmark": "import", "backend": backend(server)}
                figures.update(await bench_telegram_exports(
                    runtime, org_id, testdata / "telegram" / "desktop_exports_tgif"))
                figures.update(await bench_qq_samples(
                    runtime, testdata / "chat_datasets" / "qq_txt_export_samples",
                    Path(workdir)))
            finally:
                await runtime.close()
    figures["verified"] = (figures["telegram_groups_matching"] == figures["telegram_groups"]
                           and figures["qq_files_matching"] == figures["qq_files"])
    return figures


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("import")(bench_import)


def bench_import(
    testdata: Annotated[Path, typer.Option(
        "--testdata", help="The folder holding telegram/ and chat_datasets/.",
        envvar="QUNYUN_TESTDATA", exists=True, file_okay=False)] = DEFAULT_TESTDATA,
    db: Annotated[str | None, typer.Option("--db", help="A PostgreSQL server URL.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Import the Telegram exports and QQ samples; compare counts with the files' own."""
    figures = run_command(lambda: measure_import(testdata, db))
    show(gettext("Import benchmark"), figures, as_json)
    if not figures["verified"]:
        raise typer.Exit(1)


def run(testdata: Path | None = None, db: str | None = None) -> dict[str, Any]:
    """The figures as a dict (for scripts and `qunyun bench platforms`)."""
    folder = testdata or Path(os.environ.get("QUNYUN_TESTDATA") or DEFAULT_TESTDATA)
    return asyncio.run(measure_import(folder, db))
