"""A replay killed with SIGKILL and run again processes every event exactly once: the result
equals a clean, uninterrupted replay's — events, rollups, memberships, jobs and actions."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import orjson
import pytest

from qunyun.app.bootstrap import build_runtime
from qunyun.app.replay import ReplayState, replay_state
from qunyun.app.simulate import SimulationParams
from qunyun.core.config import Config
from tests.test_replay import write_simulation

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# `qunyun replay`, with the test-only check-in feature added to the built-in ones so that the
# replay records actions and schedules jobs (the built-in stats feature emits none).
DRIVER = """
import sys
import qunyun.app.bootstrap as bootstrap
from tests.test_replay import checkin_registry
bootstrap.builtin_registry = checkin_registry
from qunyun.cli.main import app
app(sys.argv[1:], prog_name="qunyun")
"""


def qunyun_replay(events: Path, db: Path, actions: Path) -> list[str]:
    return [sys.executable, "-c", DRIVER, "replay", str(events), "--db", str(db),
            "--actions-out", str(actions), "--batch-size", "500", "--quiet", "--json"]


def committed_events(db: Path) -> int:
    if not db.exists():
        return 0
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as connection:
        try:
            return int(connection.execute("SELECT count(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet
            return 0


def kill_midway(command: list[str], db: Path, at_least: int) -> int:
    """Start `command`, SIGKILL it once `at_least` events are committed; events committed."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        while process.poll() is None and committed_events(db) < at_least:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the replay ended before it was killed"
    return committed_events(db)


def run_to_end(command: list[str]) -> dict[str, object]:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()
    summary = orjson.loads(result.stdout)
    assert isinstance(summary, dict)
    return summary


async def state_of(db: Path) -> ReplayState:
    runtime = await build_runtime(Config(database_url=f"sqlite+aiosqlite:///{db}"),
                                  replay=True, migrate=False)
    try:
        return await replay_state(runtime.sessions, 1)
    finally:
        await runtime.close()


def test_killed_replay_rerun_equals_a_clean_replay(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    lines = write_simulation(events, SimulationParams(seed=9, members=1500, days=10,
                                                      events=24_000))
    crashed, clean = tmp_path / "crashed.db", tmp_path / "clean.db"
    crashed_actions, clean_actions = tmp_path / "crashed.jsonl", tmp_path / "clean.jsonl"

    done_before = kill_midway(qunyun_replay(events, crashed, crashed_actions), crashed,
                              at_least=lines // 3)
    assert 0 < done_before < lines
    rerun = run_to_end(qunyun_replay(events, crashed, crashed_actions))
    assert rerun["duplicate"] == done_before
    assert rerun["accepted"] == lines - done_before and rerun["rejected"] == 0
    run_to_end(qunyun_replay(events, clean, clean_actions))

    with closing(sqlite3.connect(crashed)) as connection:
        total, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT platform || ':' || external_id) FROM events"
        ).fetchone()
    assert total == distinct == lines
    killed_state, clean_state = asyncio.run(state_of(crashed)), asyncio.run(state_of(clean))
    assert killed_state.counts["actions"] > 0 and killed_state.counts["scheduled_jobs"] > 0
    assert killed_state.differences(clean_state) == []
    assert crashed_actions.read_bytes() == clean_actions.read_bytes()
