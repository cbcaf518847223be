"""`qunyun simulate`: realistic, valid, ordered, reproducible community traffic."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from qunyun.app.simulate import SimulationParams, simulate, simulate_jsonl
from qunyun.cli.main import app
from qunyun.core.errors import InvalidInput
from qunyun.core.events import parse_event

CAP = 12_000
PARAMS = SimulationParams(seed=11, groups=6, members=600, days=7, events=CAP)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(simulate(PARAMS))


def messages(events: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (e for e in events if e["type"] == "message.posted")


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    small = dataclasses.replace(PARAMS, events=2000)
    first = b"".join(simulate_jsonl(small))
    assert first == b"".join(simulate_jsonl(small))
    assert first != b"".join(simulate_jsonl(dataclasses.replace(small, seed=12)))


def test_events_are_valid_ordered_unique_and_capped(events: list[dict[str, Any]]) -> None:
    parsed = [parse_event(e) for e in events]
    assert 0.95 * CAP <= len(parsed) <= CAP
    assert len({(e.platform, e.id) for e in parsed}) == len(parsed)
    assert all(a.at <= b.at for a, b in pairwise(parsed))
    assert {e.platform for e in parsed} == {"playground"}
    assert len({e.group for e in parsed}) == PARAMS.groups
    assert all(e["at"].endswith("+08:00") for e in events)


def test_a_few_members_post_most_messages(events: list[dict[str, Any]]) -> None:
    per_member = sorted(Counter(e["member"] for e in messages(events)).values(), reverse=True)
    top_fifth = sum(per_member[:len(per_member) // 5])
    assert top_fifth > 0.5 * sum(per_member)


def test_nights_are_quiet_and_evenings_busy(events: list[dict[str, Any]]) -> None:
    hours = Counter(datetime.fromisoformat(e["at"]).hour for e in messages(events))
    night = sum(hours[h] for h in range(1, 6))
    evening = sum(hours[h] for h in range(19, 22))
    assert evening > 8 * night


def test_community_life_is_all_there(events: list[dict[str, Any]]) -> None:
    kinds = Counter(e["type"] for e in events)
    assert kinds["message.posted"] > 0.9 * len(events)
    assert kinds["member.joined"] and kinds["member.left"] and kinds["group.updated"]
    joins = [e["data"] for e in events if e["type"] == "member.joined"]
    assert any("inviter" in j for j in joins) and any("code" in j for j in joins)
    assert {j["via"] for j in joins} >= {"invite", "qr", "link"}
    kicks = [e for e in events if e["type"] == "member.left" and e["data"]["reason"] == "kicked"]
    assert kicks and all(e["data"]["by"].startswith("staff") for e in kicks)
    texts = [e["data"]["text"] for e in messages(events)]
    assert any("加微信" in t or "加V" in t or "进群" in t for t in texts)  # advertisers
    assert sum(t in ("签到", "打卡", "今日签到") for t in texts) > 20
    data = [e["data"] for e in messages(events)]
    assert any("reply_to" in d for d in data) and any("mentions" in d for d in data)


def test_members_speak_only_while_inside(events: list[dict[str, Any]]) -> None:
    left: set[tuple[str, str]] = set()
    for event in events:
        key = (event["group"], event["member"])
        if event["type"] == "member.left":
            left.add(key)
        elif event["type"] == "member.joined":
            left.discard(key)
        elif event["type"] == "message.posted":
            assert key not in left, event


def test_time_zone_and_start_day_are_honoured() -> None:
    params = SimulationParams(groups=2, members=50, days=1, start=date(2026, 7, 1),
                              timezone="Europe/Berlin", events=200)
    stamps = [e["at"] for e in simulate(params)]
    assert stamps[0].startswith("2026-07-01T") and all(s.endswith("+02:00") for s in stamps)


@pytest.mark.parametrize("change", [{"groups": 0}, {"members": 0}, {"days": 0}, {"events": 0},
                                    {"timezone": "Mars/Olympus"}])
def test_bad_parameters_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        simulate(dataclasses.replace(PARAMS, **change))


def test_cli_writes_json_lines_to_stdout_or_a_file(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["simulate", "--events", "300", "--days", "2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    lines = result.stdout_bytes.splitlines()
    assert len(lines) == 300 and all(parse_event(orjson.loads(line)) for line in lines)
    out = tmp_path / "sim.jsonl"
    result = runner.invoke(app, ["simulate", "--events", "300", "--days", "2", "--seed", "5",
                                 "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == b"".join(line + b"\n" for line in lines)


def test_cli_simulates_into_the_database(database_url: str) -> None:
    result = CliRunner().invoke(app, ["simulate", "--events", "400", "--days", "2", "--into-db",
                                      "--db", database_url, "--quiet"],
                                env={"QUNYUN_LANGUAGE": "en"})
    assert result.exit_code == 0, result.output
    assert "Accepted" in result.stdout and "400" in result.stdout


def test_cli_refuses_out_and_into_db_together(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path / "x"), "--into-db"])
    assert result.exit_code == 2
