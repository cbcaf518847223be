"""`qunyun bench dashboard`: builds its data, renders the pages, prints figures (never judged)."""

from __future__ import annotations

import os

import orjson
import pytest
import typer
from typer.testing import CliRunner

from qunyun.cli.bench_dashboard import register_bench

SERVERS = [None, *([os.environ["QUNYUN_TEST_DATABASE_URL"]]
                   if os.environ.get("QUNYUN_TEST_DATABASE_URL") else [])]


def bench_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Benchmarks."""

    register_bench(app)
    return app


@pytest.mark.parametrize("server", SERVERS, ids=lambda s: "postgresql" if s else "sqlite")
def test_bench_dashboard_prints_one_json_object(server: str | None) -> None:
    args = ["dashboard", "--groups", "12", "--members", "300", "--events", "2000",
            "--repeat", "2", "--json", *(["--db", server] if server else [])]
    result = CliRunner().invoke(bench_app(), args)
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.stdout)
    assert figures["benchmark"] == "dashboard"
    assert figures["backend"] == ("postgresql" if server else "sqlite")
    assert (figures["groups"], figures["members"]) == (12, 300)
    assert 1500 <= figures["events"] <= 2000  # whole messages per group and day
    assert figures["memberships"] >= 300
    for page in ("overview", "overview_summary", "overview_filtered",
                 "overview_filtered_summary", "overview_sorted_by_speakers", "group", "member"):
        for key in (f"{page}_p50_ms", f"{page}_p95_ms", f"{page}_cpu_p95_ms"):
            assert isinstance(figures[key], float), key
