"""Command: replay a JSON Lines file of bridge-protocol events through the pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from qunyun.app.replay import DEFAULT_BATCH_SIZE, OnProgress, ReplaySummary, replay
from qunyun.cli.common import (
    DEFAULT_ORG,
    ConfigOption,
    DbOption,
    JsonOption,
    OrgOption,
    config_for,
    console,
    print_json,
    run,
)
from qunyun.core.i18n import gettext

out = Console(highlight=False)  # the summary on stdout; progress and errors on stderr

FileArgument = Annotated[Path, typer.Argument(help="Events, one JSON object per line.",
                                              dir_okay=False)]
PlaybookOption = Annotated[Path | None, typer.Option(
    "--playbook", help="Apply this playbook (TOML) to the file's groups first.", dir_okay=False)]
ActionsOutOption = Annotated[Path | None, typer.Option(
    "--actions-out", help="Write every recorded action here, as JSON Lines.", dir_okay=False)]
BatchSizeOption = Annotated[int, typer.Option(
    "--batch-size", help="Events per transaction.", min=1)]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def register(app: typer.Typer) -> None:
    app.command("replay")(replay_command)


def replay_command(file: FileArgument, playbook: PlaybookOption = None,
                   actions_out: ActionsOutOption = None, org: OrgOption = DEFAULT_ORG,
                   db: DbOption = None, batch_size: BatchSizeOption = DEFAULT_BATCH_SIZE,
                   quiet: QuietOption = False, as_json: JsonOption = False,
                   config: ConfigOption = None) -> None:
    """Replay history: every event is processed once, actions are recorded, never sent."""
    settings = config_for(db, config)
    size = file.stat().st_size if file.is_file() else 0
    description = gettext("Replaying", settings.language)
    with progress_bar(description, size, by_bytes=True, quiet=quiet) as on_progress:
        summary = run(lambda: replay(settings, file, org=org, playbook=playbook,
                                     actions_out=actions_out, batch_size=batch_size,
                                     on_progress=on_progress))
    if as_json:
        print_json(summary.as_dict(settings.language))
    else:
        print_summary(summary, settings.language, actions_out)


@contextmanager
def progress_bar(description: str, total: int | None, *, by_bytes: bool,
                 quiet: bool) -> Iterator[OnProgress]:
    """A Rich progress bar on stderr; yields the callback that advances it."""
    unit = DownloadColumn() if by_bytes else TextColumn("{task.completed:,}/{task.total:,}")
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), unit,
                  TimeRemainingColumn(), console=console, disable=quiet,
                  transient=True) as progress:
        task = progress.add_task(description, total=total or None)
        yield lambda done: progress.advance(task, done)


def print_summary(summary: ReplaySummary, locale: str, actions_out: Path | None) -> None:
    table = Table(show_header=False, box=None)
    rows = [
        (gettext("Accepted", locale), f"{summary.accepted:,}"),
        (gettext("Duplicates", locale), f"{summary.duplicate:,}"),
        (gettext("Rejected", locale), f"{summary.rejected:,}"),
        (gettext("Jobs fired after the last event", locale), f"{summary.jobs_fired:,}"),
        (gettext("Elapsed", locale), gettext("{seconds} s", locale,
                                              seconds=f"{summary.elapsed_s:.1f}")),
        (gettext("Events per second", locale), f"{summary.events_per_s:,.0f}"),
    ]
    if actions_out is not None and summary.actions_written is not None:
        rows.append((gettext("Actions written", locale),
                     gettext("{count} to {path}", locale, count=f"{summary.actions_written:,}",
                             path=str(actions_out))))
    for label, value in rows:
        table.add_row(label, value)
    out.print(table)
    if summary.problems:
        out.print(gettext("First rejected lines:", locale))
        for problem in summary.problems[:5]:
            out.print("  " + gettext("line {line}: {reason}", locale, line=problem.line,
                                     reason=problem.render(locale)), markup=False)
