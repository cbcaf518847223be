"""Commands: `import telegram result.json`, `import qq FILE.txt` — chat history as events.

Imported history enters the event log marked as imported: statistics and rule dry-runs see a
group's past from day one, and nothing is ever delivered because of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from qunyun.app.import_qq import import_qq_file
from qunyun.app.import_telegram import import_telegram_export
from qunyun.cli.common import (
    DEFAULT_ORG,
    ConfigOption,
    DbOption,
    JsonOption,
    OrgOption,
    config_for,
    console,
    open_runtime,
    org_id_for,
    print_json,
    run,
)
from qunyun.core.i18n import gettext

import_app = typer.Typer(help="Import chat history (Telegram Desktop, QQ text exports).",
                         no_args_is_help=True)
out = Console(highlight=False)

FileArgument = Annotated[Path, typer.Argument(help="The export file.", exists=True,
                                              dir_okay=False, readable=True)]
GroupOption = Annotated[str | None, typer.Option(
    "--group", help="The group's platform id (default: read from the export).")]
TimezoneOption = Annotated[str | None, typer.Option(
    "--timezone", help="Zone of the times in older exports (default: the configured one).")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Advance = Callable[[int, int], None]


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")


@contextmanager
def progress_bar(description: str, quiet: bool) -> Iterator[Advance]:
    """A Rich progress bar on stderr; yields `advance(done, total)`."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  MofNCompleteColumn(), console=console,
                  disable=quiet, transient=True) as progress:
        task = progress.add_task(description, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


@import_app.command("telegram")
def import_telegram(file: FileArgument, org: OrgOption = DEFAULT_ORG, group: GroupOption = None,
                    timezone: TimezoneOption = None, db: DbOption = None,
                    quiet: QuietOption = False, as_json: JsonOption = False,
                    config: ConfigOption = None) -> None:
    """Import a Telegram Desktop export (result.json, "Export chat history" as JSON)."""
    settings = config_for(db, config)

    async def work() -> dict[str, Any]:
        async with open_runtime(settings) as runtime:
            org_id = await org_id_for(runtime, org)
            with progress_bar(gettext("Importing", settings.language), quiet) as advance:
                summary = await import_telegram_export(
                    runtime, org_id, file, group=group,
                    timezone=timezone or settings.timezone, progress=advance)
            return summary.as_dict()

    print_summary(run(work), settings.language, as_json)


QqGroupOption = Annotated[str, typer.Option("--group", help="The QQ group number.")]
StartOption = Annotated[datetime | None, typer.Option(
    "--start", formats=["%Y-%m-%d"],
    help="The date of the first message, for text copied without dates.")]


@import_app.command("qq")
def import_qq(file: FileArgument, group: QqGroupOption, org: OrgOption = DEFAULT_ORG,
              start: StartOption = None, timezone: TimezoneOption = None, db: DbOption = None,
              quiet: QuietOption = False, as_json: JsonOption = False,
              config: ConfigOption = None) -> None:
    """Import a QQ text history (消息管理器 export or copied chat text) into a QQ group."""
    settings = config_for(db, config)

    async def work() -> dict[str, Any]:
        async with open_runtime(settings) as runtime:
            org_id = await org_id_for(runtime, org)
            with progress_bar(gettext("Importing", settings.language), quiet) as advance:
                summary = await import_qq_file(
                    runtime, file, org=org_id, group=group,
                    start=start.date() if start else None,
                    timezone=timezone or settings.timezone, progress=advance)
            return summary.as_dict()

    print_summary(run(work), settings.language, as_json)


def print_summary(summary: dict[str, Any], locale: str, as_json: bool) -> None:
    if as_json:
        print_json(summary)
        return
    labels = {
        "group": gettext("Group", locale), "messages": gettext("Messages", locale),
        "senders": gettext("Senders", locale), "replies": gettext("Replies", locale),
        "joins": gettext("Joins", locale), "leaves": gettext("Leaves", locale),
        "skipped": gettext("Skipped", locale), "accepted": gettext("Accepted", locale),
        "duplicate": gettext("Duplicates", locale), "rejected": gettext("Rejected", locale),
    }
    table = Table(show_header=False, box=None)
    for key, label in labels.items():
        if key in summary:
            value = summary[key]
            table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    out.print(table)
    for reason in summary.get("reasons") or []:
        out.print("  " + str(reason), markup=False)
