"""Commands: `bench …` — benchmarks. They print figures; they never pass or fail on timings.

Each runs on a fresh temporary database: SQLite in a temporary directory, or with `--db` a
database created (and dropped afterwards) on the given PostgreSQL server.
"""

from __future__ import annotations

import filecmp
import math
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import psutil
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.app.replay import (
    ReplayState,
    ReplaySummary,
    organization_id,
    read_lines,
    replay_into,
    replay_state,
)
from qunyun.app.simulate import SimulationParams, simulate, simulate_jsonl
from qunyun.cli.common import DEFAULT_ORG, JsonOption, print_json, run
from qunyun.community.settings import ORGANIZATION, do_set_layer
from qunyun.core.config import Config
from qunyun.core.errors import InvalidInput
from qunyun.core.events import Event, parse_event
from qunyun.core.i18n import gettext

bench_app = typer.Typer(help="Measure qunyun: throughput, latency, memory.", no_args_is_help=True)
out = Console(highlight=False)
SEED = 7
MB = 1024 * 1024

ServerOption = Annotated[str | None, typer.Option(
    "--db", help="A PostgreSQL URL: the benchmark creates and drops a database there. "
                 "Default: SQLite in a temporary directory.")]
BatchOption = Annotated[int, typer.Option("--batch-size", help="Events per transaction.", min=1)]


def register(app: typer.Typer) -> None:
    # Imported here: the dashboard benchmark builds on this module's helpers.
    from qunyun.cli.bench_dashboard import register_bench as register_dashboard_bench

    register_dashboard_bench(bench_app)
    from qunyun.cli.bench_signin import register_bench as register_signin_bench

    register_signin_bench(bench_app)
    from qunyun.cli.bench_moderation import register_bench as register_moderation_bench

    register_moderation_bench(bench_app)
    import_module("qunyun.cli.bench_platforms").register_bench(bench_app)
    for name in ("qunyun.cli.bench_telegram", "qunyun.cli.bench_import"):  # telegram, import
        import_module(name).register_bench(bench_app)
    app.add_typer(bench_app, name="bench")


@bench_app.command("pipeline")
def bench_pipeline(
    events: Annotated[int, typer.Option(help="Events in bulk batches.", min=1)] = 100_000,
    batch_size: BatchOption = 1000,
    single_events: Annotated[int, typer.Option(
        help="Events then processed one per transaction, for per-event latency.", min=0)] = 2000,
    db: ServerOption = None, as_json: JsonOption = False,
    all_features: Annotated[bool, typer.Option(
        "--all-features/--default-features",
        help="Switch the engagement features on for the organization, every other feature "
             "off (default); or run only the features on by default.")] = True,
    every_feature: Annotated[bool, typer.Option(
        "--every-feature",
        help="Switch every registered feature on, whatever it is.")] = False,
) -> None:
    """Simulated, message-heavy events through the whole pipeline: events/s, latencies, RSS."""
    chosen = EVERY if every_feature else ENGAGEMENT if all_features else DEFAULT
    figures = run(lambda: measure_pipeline(events, batch_size, single_events, db,
                                           features=chosen))
    show(gettext("Pipeline benchmark"), figures, as_json)


@bench_app.command("replay")
def bench_replay(
    events: Annotated[int, typer.Option(help="Events to simulate and replay.", min=1)]
    = 1_000_000,
    batch_size: BatchOption = 1000, db: ServerOption = None, as_json: JsonOption = False,
) -> None:
    """Simulate to a file, replay it twice into fresh databases, compare the two results."""
    figures = run(lambda: measure_replay(events, batch_size, db))
    show(gettext("Replay benchmark"), figures, as_json)
    if not as_json:
        same = figures["identical_state"] and figures["identical_actions"]
        out.print(gettext("Both replays gave identical state and actions.") if same else
                  gettext("The two replays differ: {parts}",
                          parts=", ".join(figures["differences"])))


def show(title: str, figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(figures)
        return
    table = Table(title=title, show_header=False)
    for key, value in figures.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else \
            f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
        table.add_row(key, shown)
    out.print(table)


# --- pipeline ------------------------------------------------------------------------------

# The features `bench pipeline` switches on by default: a fixed list, so that features added
# later do not silently change its figure (`--every-feature` runs them all).
ENGAGEMENT_FEATURES = ("welcome", "autoreply", "signin", "points", "levels", "leaderboard",
                       "redpacket", "challenge", "highlights", "help", "stats")
ENGAGEMENT, EVERY, DEFAULT = "engagement", "every", "default"


async def measure_pipeline(events: int, batch_size: int, singles: int,
                           server: str | None, *, features: str = ENGAGEMENT
                           ) -> dict[str, Any]:
    generated = [parse_event(raw) for raw in
                 simulate(SimulationParams(seed=SEED, events=events + singles))]
    bulk, single = generated[:events], generated[events:]
    rss = RssSampler()
    rss_before = rss.sample()
    with tempfile.TemporaryDirectory(prefix="qunyun-bench-") as workdir:
        async with fresh_database(server, Path(workdir)) as url:
            runtime = await build_runtime(Config(data_dir=Path(workdir), database_url=url),
                                          replay=True)
            try:
                org_id = await organization_id(runtime, DEFAULT_ORG)
                switched = await choose_features(runtime, org_id, features)
                runtime.settle()  # as the server does at startup
                started = time.perf_counter()
                batches = await timed_batches(runtime, org_id, bulk, batch_size, rss)
                elapsed = time.perf_counter() - started
                per_event = await timed_batches(runtime, org_id, single, 1, rss)
            finally:
                await runtime.close()
    return {
        "benchmark": "pipeline", "backend": backend(server), "events": len(bulk),
        "features": ", ".join(switched),
        "batch_size": batch_size, "elapsed_s": round(elapsed, 3),
        "events_per_s": round(len(bulk) / elapsed, 1),
        "batch_p50_ms": ms(percentile(batches, 50)), "batch_p99_ms": ms(percentile(batches, 99)),
        "batch_event_mean_ms": ms(elapsed / len(bulk)),
        "single_events": len(single),
        "single_event_p50_ms": ms(percentile(per_event, 50)),
        "single_event_p99_ms": ms(percentile(per_event, 99)),
        "rss_before_mb": round(rss_before / MB, 1), "peak_rss_mb": round(rss.peak / MB, 1),
    }


async def choose_features(runtime: Runtime, org_id: int, which: str) -> list[str]:
    """Switch on the features of `which` (ENGAGEMENT, EVERY or DEFAULT); the names that run."""
    if which == DEFAULT:
        return [f.name for f in runtime.registry if f.on_by_default]
    if which == EVERY:
        return await switch_on(runtime, org_id)
    registered = set(runtime.registry.names)
    missing = [name for name in ENGAGEMENT_FEATURES if name not in registered]
    if missing:
        raise InvalidInput("features not registered: {names}", names=", ".join(missing))
    return await switch_on(runtime, org_id, ENGAGEMENT_FEATURES)


async def switch_on(runtime: Runtime, org_id: int,
                    names: Sequence[str] | None = None) -> list[str]:
    """The named features (default: every registered one) on with their defaults at the
    organization layer, every other feature off; the names switched on, in pipeline order."""
    wanted = set(runtime.registry.names if names is None else names)
    async with runtime.write_sessions() as session:
        for feature in runtime.registry:
            await do_set_layer(session, org_id=org_id, scope=ORGANIZATION, scope_id=org_id,
                               feature=feature.name, values={"enabled": feature.name in wanted},
                               at=runtime.clock.now())
        await session.commit()
    return [name for name in runtime.registry.names if name in wanted]


async def timed_batches(runtime: Runtime, org_id: int, events: Sequence[Event], size: int,
                        rss: RssSampler) -> list[float]:
    """Process `events` in batches of `size`; the seconds each batch took."""
    latencies = []
    for start in range(0, len(events), size):
        batch = events[start:start + size]
        began = time.perf_counter()
        await runtime.pipeline.process(org_id, batch)
        latencies.append(time.perf_counter() - began)
        rss.sample()
    return latencies


# --- replay --------------------------------------------------------------------------------

async def measure_replay(events: int, batch_size: int, server: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="qunyun-bench-") as tmp:
        workdir = Path(tmp)
        path = workdir / "events.jsonl"
        began = time.perf_counter()
        with path.open("wb") as handle:
            handle.writelines(simulate_jsonl(SimulationParams(seed=SEED, events=events)))
        simulated = time.perf_counter() - began
        size = path.stat().st_size
        rss = RssSampler(total=size)
        first, state = await replay_once(path, workdir, server, batch_size, "first", rss)
        second, again = await replay_once(path, workdir, server, batch_size, "second", None)
        differences = state.differences(again)
        identical_actions = filecmp.cmp(workdir / "first.jsonl", workdir / "second.jsonl",
                                        shallow=False)
    return {
        "benchmark": "replay", "backend": backend(server), "events": first.events,
        "file_mb": round(size / MB, 1), "simulate_s": round(simulated, 1),
        "replay_s": round(first.elapsed_s, 1), "events_per_s": round(first.events_per_s, 1),
        **{f"rss_{p}pct_mb": round(rss.marks.get(p, 0) / MB, 1) for p in RssSampler.MARKS},
        "peak_rss_mb": round(rss.peak / MB, 1), "second_replay_s": round(second.elapsed_s, 1),
        "actions": first.actions_written, "identical_state": not differences,
        "identical_actions": identical_actions, "differences": differences,
    }


async def replay_once(path: Path, workdir: Path, server: str | None, batch_size: int,
                      name: str, rss: RssSampler | None) -> tuple[ReplaySummary, ReplayState]:
    async with fresh_database(server, workdir) as url:
        runtime = await build_runtime(Config(data_dir=workdir, database_url=url), replay=True)
        try:
            org_id = await organization_id(runtime, DEFAULT_ORG)
            summary = await replay_into(runtime, org_id, read_lines(path), batch_size=batch_size,
                                        actions_out=workdir / f"{name}.jsonl",
                                        on_progress=rss.advance if rss else None)
            return summary, await replay_state(runtime.sessions, org_id)
        finally:
            await runtime.close()


# --- measuring ------------------------------------------------------------------------------

class RssSampler:
    """Peak resident memory, and the memory at 10 %, 50 % and 100 % of a run by bytes done."""

    MARKS = (10, 50, 100)

    def __init__(self, total: int = 0) -> None:
        self._process = psutil.Process()
        self.total, self.done, self.peak = total, 0, 0
        self.marks: dict[int, int] = {}

    def sample(self) -> int:
        rss = int(self._process.memory_info().rss)
        self.peak = max(self.peak, rss)
        return rss

    def advance(self, size: int) -> None:
        self.done += size
        rss = self.sample()
        for mark in self.MARKS:
            if mark not in self.marks and self.done * 100 >= mark * self.total:
                self.marks[mark] = rss


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def backend(server: str | None) -> str:
    return "sqlite" if server is None else "postgresql"


@asynccontextmanager
async def fresh_database(server: str | None, workdir: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped afterwards (SQLite: a file in `workdir`)."""
    name = f"qunyun_bench_{uuid.uuid4().hex[:12]}"
    if server is None:
        yield f"sqlite+aiosqlite:///{workdir / name}.db"
        return
    url = make_url(server)
    if url.get_backend_name() != "postgresql":
        raise InvalidInput("--db must be a PostgreSQL URL; without it the benchmark uses SQLite")
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    await _admin(admin, f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+asyncpg",
                      database=name).render_as_string(hide_password=False)
    finally:
        await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
