"""Command: simulate realistic community traffic, to JSON Lines or straight into the database."""

from __future__ import annotations

import sys
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from qunyun.app.replay import DEFAULT_BATCH_SIZE, OnProgress, ReplaySummary, replay_into
from qunyun.app.simulate import SimulationParams, simulate, simulate_jsonl
from qunyun.cli.common import (
    DEFAULT_ORG,
    ConfigOption,
    DbOption,
    OrgOption,
    config_for,
    open_runtime,
    org_id_for,
    run,
)
from qunyun.cli.replay import BatchSizeOption, QuietOption, print_summary, progress_bar
from qunyun.core.config import Config
from qunyun.core.events import parse_event
from qunyun.core.i18n import gettext

DEFAULTS = SimulationParams()
DEFAULT_START = datetime.combine(DEFAULTS.start, time())


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)


def simulate_command(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same events.")]
    = DEFAULTS.seed,
    groups: Annotated[int, typer.Option(help="Number of groups.", min=1)] = DEFAULTS.groups,
    members: Annotated[int, typer.Option(help="Number of members.", min=1)] = DEFAULTS.members,
    days: Annotated[int, typer.Option(help="Days of history.", min=1)] = DEFAULTS.days,
    start: Annotated[datetime, typer.Option(help="First day (local).", formats=["%Y-%m-%d"])]
    = DEFAULT_START,
    events: Annotated[int | None, typer.Option(help="About this many events in all.", min=1)]
    = None,
    platform: Annotated[str, typer.Option(help="Platform name in the events.")]
    = DEFAULTS.platform,
    timezone: Annotated[str, typer.Option(help="The community's IANA time zone.")]
    = DEFAULTS.timezone,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write JSON Lines here (default: standard output).", dir_okay=False)]
    = None,
    into_db: Annotated[bool, typer.Option(
        "--into-db", help="Feed the events straight into the database, as history.")] = False,
    db: DbOption = None, org: OrgOption = DEFAULT_ORG,
    batch_size: BatchSizeOption = DEFAULT_BATCH_SIZE, quiet: QuietOption = False,
    config: ConfigOption = None,
) -> None:
    """Generate a community's traffic: groups, members, joins, leaves, messages, advertisers."""
    params = SimulationParams(seed=seed, groups=groups, members=members, days=days,
                              start=start.date(), events=events, platform=platform,
                              timezone=timezone)
    settings = config_for(db, config)
    if out is not None and into_db:
        raise typer.BadParameter(gettext("choose one of --out and --into-db", settings.language))
    expected = events or round(members * params.messages_per_member_day * days)
    description = gettext("Simulating", settings.language)
    quiet = quiet or (out is None and not into_db)  # standard output carries the events
    with progress_bar(description, expected, by_bytes=False, quiet=quiet) as on_progress:
        if not into_db:
            run(lambda: write_jsonl(params, out, on_progress))
            return
        summary = run(lambda: simulate_into_db(settings, params, org, batch_size, on_progress))
    print_summary(summary, settings.language, None)


async def write_jsonl(params: SimulationParams, path: Path | None,
                      on_progress: OnProgress) -> None:
    params.check()
    if path is None:
        _write(params, sys.stdout.buffer, on_progress)
        sys.stdout.flush()
        return
    with path.open("wb") as handle:
        _write(params, handle, on_progress)


def _write(params: SimulationParams, handle: BinaryIO, on_progress: OnProgress) -> None:
    count = 0
    for count, line in enumerate(simulate_jsonl(params), start=1):
        handle.write(line)
        if count % 1000 == 0:
            on_progress(1000)
    on_progress(count % 1000)


async def simulate_into_db(settings: Config, params: SimulationParams, org: str,
                           batch_size: int, on_progress: OnProgress) -> ReplaySummary:
    """Process the simulated events as history: nothing is delivered, the clock follows them."""
    params.check()
    async with open_runtime(settings, replay=True) as runtime:
        org_id = await org_id_for(runtime, org)
        lines = ((n, 1, parse_event(raw)) for n, raw in enumerate(simulate(params), start=1))
        return await replay_into(runtime, org_id, lines, batch_size=batch_size,
                                 on_progress=on_progress)
