"""`qunyun bench`: the commands run and print their figures. Timings are never asserted."""

from __future__ import annotations

import os

import orjson
import pytest
from typer.testing import CliRunner

from qunyun.app.features import builtin_registry
from qunyun.cli.bench import ENGAGEMENT_FEATURES, percentile
from qunyun.cli.main import app

SERVERS = [None, *([os.environ["QUNYUN_TEST_DATABASE_URL"]]
                   if os.environ.get("QUNYUN_TEST_DATABASE_URL") else [])]


def bench(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["bench", *args, "--json"])
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.stdout)
    assert isinstance(figures, dict)
    return figures


@pytest.mark.parametrize("server", SERVERS, ids=lambda s: "postgresql" if s else "sqlite")
def test_bench_pipeline_prints_one_json_object(server: str | None) -> None:
    args = ["pipeline", "--events", "300", "--batch-size", "100", "--single-events", "10"]
    figures = bench(*args, *(["--db", server] if server else []))
    assert figures["benchmark"] == "pipeline"
    assert figures["backend"] == ("postgresql" if server else "sqlite")
    assert figures["events"] == 300
    for key in ("events_per_s", "batch_p50_ms", "batch_p99_ms", "single_event_p50_ms",
                "single_event_p99_ms", "peak_rss_mb"):
        assert isinstance(figures[key], float), key


@pytest.mark.parametrize("server", SERVERS, ids=lambda s: "postgresql" if s else "sqlite")
def test_bench_replay_finds_two_replays_identical(server: str | None) -> None:
    figures = bench("replay", "--events", "400", *(["--db", server] if server else []))
    assert figures["benchmark"] == "replay" and figures["events"] == 400
    assert isinstance(figures["events_per_s"], float)
    assert {"rss_10pct_mb", "rss_50pct_mb", "rss_100pct_mb"} <= figures.keys()
    assert figures["identical_state"] is True and figures["identical_actions"] is True


def test_bench_pipeline_runs_the_engagement_features_unless_told_otherwise() -> None:
    """A fixed list, so features registered later do not change the default figure."""
    args = ["pipeline", "--events", "40", "--batch-size", "20", "--single-events", "0"]
    engagement = bench(*args)["features"]
    assert isinstance(engagement, str)
    assert engagement.split(", ") == [n for n in builtin_registry().names
                                      if n in ENGAGEMENT_FEATURES]
    every = bench(*args, "--every-feature")["features"]
    assert isinstance(every, str) and every.split(", ") == builtin_registry().names
    default = bench(*args, "--default-features")["features"]
    assert isinstance(default, str)
    assert default.split(", ") == [f.name for f in builtin_registry() if f.on_by_default]


def test_bench_table_output() -> None:
    result = CliRunner().invoke(app, ["bench", "pipeline", "--events", "50",
                                      "--single-events", "2"])
    assert result.exit_code == 0, result.output
    assert "events_per_s" in result.stdout


def test_bench_refuses_a_database_other_than_postgresql() -> None:
    result = CliRunner().invoke(app, ["bench", "pipeline", "--events", "10", "--db",
                                      "sqlite+aiosqlite:///x.db"])
    assert result.exit_code == 2
    assert "PostgreSQL" in result.stderr


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) == 0.0
