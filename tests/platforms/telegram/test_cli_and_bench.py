"""`qunyun import telegram`, and the two benchmarks run small (figures checked, not timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from qunyun.cli.bench_import import measure_import
from qunyun.cli.bench_telegram import measure_telegram
from qunyun.cli.main import app
from tests.conftest import SHARED, shared_data


def test_import_command(tmp_path: Path) -> None:
    export = shared_data("telegram", "desktop_exports_tgif", "oop__exported.json")
    db = str(tmp_path / "q.db")
    runner = CliRunner()
    first = runner.invoke(app, ["import", "telegram", str(export), "--db", db, "--json", "-q"])
    assert first.exit_code == 0, first.output
    assert '"messages": 46' in first.stdout and '"accepted": 47' in first.stdout
    again = runner.invoke(app, ["import", "telegram", str(export), "--db", db, "--json", "-q"])
    assert '"duplicate": 47' in again.stdout
    bad = tmp_path / "x.json"
    bad.write_text("{}", encoding="utf-8")
    refused = runner.invoke(app, ["import", "telegram", str(bad), "--db", db])
    assert refused.exit_code == 2


async def test_delivery_benchmark_small_and_accelerated() -> None:
    figures = await measure_telegram(messages=60, groups=3, scale=20.0)
    assert figures["delivered"] == figures["received_by_fake"] == 60
    assert figures["responses_429"] == 0 and figures["verified"]
    assert figures["allowed_rate_per_s"] == 20.0  # 3 groups × 20/min, 20 times faster


async def test_import_benchmark_matches_every_file() -> None:
    shared_data("telegram", "desktop_exports_tgif")
    figures = await measure_import(SHARED / "testdata")
    assert (figures["telegram_files"], figures["qq_files"]) == (14, 23)
    assert figures["telegram_messages"] == 1179 and figures["telegram_replies"] == 555
    assert figures["telegram_senders"] == 51
    assert figures["verified"]


def test_the_connection_module_imports_on_its_own() -> None:
    """The server imports it by name before anything else of the API (no import cycle)."""
    result = subprocess.run([sys.executable, "-c", "import qunyun.app.telegram"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
