"""`qunyun platform parse --platform onebot` and `qunyun bench platforms` (figures, not times)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from typer.testing import CliRunner

from qunyun.cli.bench_platforms import measure_onebot
from qunyun.cli.main import app
from tests.platforms.onebot.fake_onebot import group_message

T = 1_763_776_800


def test_platform_parse_prints_canonical_events(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(group_message(9, 123, 5, "[CQ:at,qq=6] 你好&#44;世界", time=T)),
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["platform", "parse", "--platform", "onebot", str(path)])
    assert result.exit_code == 0, result.output
    event = orjson.loads(result.stdout.strip())
    assert event["type"] == "message.posted" and event["data"]["text"] == " 你好&#44;世界"
    assert event["data"]["mentions"] == ["6"]


def test_platform_parse_names_rejected_payloads(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(group_message(9, 123, 5, "ok", time=T)) + "\n{oops\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["platform", "parse", "--platform", "onebot", str(path)])
    assert result.exit_code == 1
    assert result.stdout.count('"type":"message.posted"') == 1
    assert "line 2 is not JSON" in result.stderr


def test_platform_parse_unknown_platform(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(app, ["platform", "parse", "--platform", "icq", str(path)])
    assert result.exit_code == 2


async def test_bench_figures_account_for_every_event() -> None:
    figures = await measure_onebot(300, 5, 100, None)
    assert (figures["events"], figures["accepted"], figures["rejected"]) == (300, 300, 0)
    assert figures["adapter_events_per_s"] > 0 and figures["pipeline_events_per_s"] > 0
