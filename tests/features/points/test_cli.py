"""`qunyun points …` end to end: a history replayed under a playbook, then show, recompute
(dry run and apply), export, import (and a bad file) and adjust."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from typer.testing import CliRunner

from qunyun.cli.main import app
from tests.features.points.conftest import mixed_history

PLAYBOOK = """version = 1
name = "积分规则"

[features.points]
enabled = true
message_daily_cap = 6
invite_hold_hours = 1
"""


def invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_points_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "qunyun.db")
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in mixed_history(7, 200)))
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    invoke(runner, "replay", str(events), "--db", db, "--quiet",
           "--playbook", str(tmp_path / "playbook.toml"))

    shown = json.loads(invoke(runner, "points", "show", "--db", db, "-m", "bridge:u1", "--json"))
    assert shown["balance"] > 0 and shown["entries"][0]["reason"] in (
        "message", "reaction", "invite")
    same = json.loads(invoke(runner, "points", "recompute", "--db", db, "--dry-run", "--json"))
    assert same["members"] == [] and same["recomputed_total"] > 0

    (tmp_path / "rules.toml").write_text("[features.points]\nmessage_points = 3\n")
    dry = json.loads(invoke(runner, "points", "recompute", "--db", db, "--dry-run", "--json",
                            "--settings", str(tmp_path / "rules.toml")))
    assert dry["members"] and all(m["difference"] > 0 for m in dry["members"])
    applied = json.loads(invoke(runner, "points", "recompute", "--db", db, "--json",
                                "--settings", str(tmp_path / "rules.toml")))
    assert [(a["person_id"], a["applied"]) for a in applied["applied"]] == [
        (m["person_id"], m["difference"]) for m in dry["members"]]

    exported = invoke(runner, "points", "export", "--db", db)
    assert exported.splitlines()[0] == "person_id,display_name,accounts,balance,lifetime_earned"
    assert "bridge:u1" in exported
    good = tmp_path / "gift.csv"
    good.write_text("account,amount,note\nbridge:u1,5,感谢参与\n", encoding="utf-8")
    first = json.loads(invoke(runner, "points", "import", str(good), "--db", db, "--json"))
    assert (first["applied"], first["points"]) == (1, 5)
    bad = tmp_path / "bad.csv"
    bad.write_text("account,amount\nbridge:u1,lots\n", encoding="utf-8")
    refused = runner.invoke(app, ["points", "import", str(bad), "--db", db])
    assert refused.exit_code == 2 and "line 2" in refused.output

    invoke(runner, "points", "adjust", "--db", db, "-m", "bridge:u1", "--amount", "-1",
           "--note", "纠正")
    after = json.loads(invoke(runner, "points", "show", "--db", db, "-m", "bridge:u1", "--json",
                              "--limit", "200"))
    assert after["balance"] == shown["balance"] + applied_for(applied, shown["person_id"]) + 4
    assert [(e["amount"], e["actor"]) for e in after["entries"] if e["reason"] == "adjust"] == [
        (-1, "cli")]


def applied_for(applied: dict, person_id: int) -> int:
    return sum(a["applied"] for a in applied["applied"] if a["person_id"] == person_id)
