"""`qunyun bench signin-burst` at a tiny size: it runs and its own verification passes."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import orjson
import pytest
from typer.testing import CliRunner

from qunyun.cli.bench_signin import _check_day
from qunyun.cli.main import app

SERVERS = [None, *([os.environ["QUNYUN_TEST_DATABASE_URL"]]
                   if os.environ.get("QUNYUN_TEST_DATABASE_URL") else [])]


@pytest.mark.parametrize("server", SERVERS, ids=lambda s: "postgresql" if s else "sqlite")
def test_a_small_burst_verifies(server: str | None) -> None:
    args = ["bench", "signin-burst", "--groups", "10", "--signins", "50", "--days", "3",
            "--batch-size", "20", "--json", *(["--db", server] if server else [])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.stdout)
    assert figures["benchmark"] == "signin-burst"
    assert figures["backend"] == ("postgresql" if server else "sqlite")
    assert (figures["groups"], figures["signins_per_day"], figures["days"]) == (10, 50, 3)
    assert figures["verified"] is True and figures["problems"] == []
    assert isinstance(figures["day1_events_per_s"], float)


def test_the_verification_finds_gaps_repeats_and_broken_streaks() -> None:
    at = datetime(2026, 11, 23, tzinfo=UTC)
    day = date(2026, 11, 23)
    rows = [SimpleNamespace(person_id=p, group_id=1, rank=r, streak=s, at=at + timedelta(seconds=p))
            for p, r, s in ((1, 1, 2), (2, 3, 2), (3, 2, 1))]
    problems = _check_day(rows, {(1, day): 3}, day, members=4, streak=2)
    assert len(problems) == 3
    assert "3 of 4 members" in problems[0] and "[1, 3, 2]" in problems[1]
    assert "streaks [1, 2]" in problems[2]
