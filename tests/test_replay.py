"""`qunyun replay`: streaming, validation, duplicates, determinism, actions out, playbooks."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from qunyun.app.bootstrap import build_runtime
from qunyun.app.replay import ReplayState, read_lines, replay, replay_into, replay_state
from qunyun.app.simulate import SimulationParams, simulate_jsonl
from qunyun.cli.main import app
from qunyun.community.models import Group
from qunyun.core.actions import send_message
from qunyun.core.config import Config
from qunyun.core.events import MESSAGE_POSTED
from qunyun.core.features import Feature, FeatureContext, FeatureRegistry, FeatureSettings
from qunyun.db.engine import create_engine, session_factory
from qunyun.features.stats.plugin import FEATURE as STATS
from qunyun.pipeline.models import ActionRecord
from tests import factories

SIMULATION = SimulationParams(seed=3, groups=4, members=300, days=3, events=1500)


class CheckinSettings(FeatureSettings):
    enabled: bool = True
    reply: str = "签到成功"


async def _checkin(ctx: FeatureContext) -> None:
    """Test-only feature: answer 签到 and schedule a reminder two hours later."""
    event = ctx.event
    if event is not None and "签到" in str(event.data.get("text", "")):
        ctx.emit(send_message(ctx.settings.reply, reply_to=str(event.data["message_id"]),
                              mentions=[str(event.member)]))
        ctx.schedule("remind", ctx.now + timedelta(hours=2), {"member": event.member})


async def _remind(ctx: FeatureContext) -> None:
    assert ctx.job is not None
    ctx.emit(send_message(f"明天也记得签到 @{ctx.job.payload['member']}"))


CHECKIN = Feature(name="checkin", title="Check-in (test)", description="Answers 签到.",
                  order=100, events=frozenset({MESSAGE_POSTED}), settings_model=CheckinSettings,
                  handle=_checkin, on_job=_remind, on_by_default=True)


def checkin_registry(*, on_by_default: bool = True) -> FeatureRegistry:
    return FeatureRegistry([STATS, dataclasses.replace(CHECKIN, on_by_default=on_by_default)])


def write_simulation(path: Path, params: SimulationParams = SIMULATION) -> int:
    lines = 0
    with path.open("wb") as handle:
        for line in simulate_jsonl(params):
            handle.write(line)
            lines += 1
    return lines


def config(url: str, tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", database_url=url)


@pytest.fixture
async def twin_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A second fresh database like `database_url`, copied before either is used."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        twin = tmp_path / "twin.db"
        shutil.copyfile(str(url.database), twin)
        yield f"sqlite+aiosqlite:///{twin}"
        return
    admin = make_url(os.environ["QUNYUN_TEST_DATABASE_URL"]).set(drivername="postgresql")
    name = f"{url.database}_twin"
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"')
        yield url.set(database=name).render_as_string(hide_password=False)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    write_simulation(path)
    return path


@pytest.fixture
def lines(events_file: Path) -> int:
    return len(events_file.read_bytes().splitlines())


async def test_replay_processes_every_event_once(database_url: str, tmp_path: Path,
                                                 events_file: Path, lines: int) -> None:
    first = await replay(config(database_url, tmp_path), events_file, batch_size=200)
    assert (first.accepted, first.duplicate, first.rejected) == (lines, 0, 0)
    assert first.last_at is not None and first.events_per_s > 0
    state = await _state(database_url, tmp_path)
    assert state.counts["events"] == lines and state.counts["stats_daily"] > 0

    again = await replay(config(database_url, tmp_path), events_file)
    assert (again.accepted, again.duplicate, again.rejected) == (0, lines, 0)
    assert await _state(database_url, tmp_path) == state


async def test_bad_lines_are_reported_with_line_numbers_and_skipped(
        database_url: str, tmp_path: Path) -> None:
    good = [factories.joined("u1"), factories.message("u1", "你好"), factories.message("u2")]
    broken = factories.message("u3")
    del broken["data"]["text"]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([
        orjson.dumps(good[0]), b"{not json", orjson.dumps(good[1]), b"", orjson.dumps(broken),
        orjson.dumps(good[2]), orjson.dumps(good[1])]) + b"\n")
    summary = await replay(config(database_url, tmp_path), path)
    assert (summary.accepted, summary.duplicate, summary.rejected) == (3, 1, 2)
    assert [p.line for p in summary.problems] == [2, 5]
    assert "not valid JSON" in summary.problems[0].render("en")
    assert summary.problems[1].render("en") == "data.text: is required"


async def test_two_replays_give_identical_actions_and_state(
        database_url: str, twin_url: str, tmp_path: Path, events_file: Path) -> None:
    results = []
    for url, name, batch_size in ((database_url, "a", 1000), (twin_url, "b", 1000)):
        out = tmp_path / f"actions-{name}.jsonl"
        summary = await replay(config(url, tmp_path), events_file, registry=checkin_registry(),
                               actions_out=out, batch_size=batch_size)
        results.append((summary, out.read_bytes(), await _state(url, tmp_path)))
    (first, actions, state), (second, actions_again, state_again) = results
    assert first.actions_written == second.actions_written
    assert first.actions_written and first.jobs_fired == second.jobs_fired
    assert actions == actions_again
    assert state_again.differences(state) == []


async def test_batch_size_does_not_change_the_result(
        database_url: str, twin_url: str, tmp_path: Path, events_file: Path) -> None:
    states = []
    for url, batch_size in ((database_url, 1000), (twin_url, 37)):
        await replay(config(url, tmp_path), events_file, registry=checkin_registry(),
                     batch_size=batch_size)
        states.append(await _state(url, tmp_path))
    assert states[1].differences(states[0]) == []


async def test_actions_out_is_sorted_bridge_protocol_and_nothing_is_delivered(
        database_url: str, tmp_path: Path, events_file: Path) -> None:
    out = tmp_path / "actions.jsonl"
    summary = await replay(config(database_url, tmp_path), events_file,
                           registry=checkin_registry(), actions_out=out)
    lines = out.read_bytes().splitlines()
    assert len(lines) == summary.actions_written > 0
    actions = [orjson.loads(line) for line in lines]
    for line, action in zip(lines, actions, strict=True):
        assert line == orjson.dumps(action, option=orjson.OPT_SORT_KEYS)
        assert action["v"] == 1 and action["type"] == "message.send"
    reminders = [a for a in actions if a["data"]["text"].startswith("明天也记得签到")]
    assert reminders and all(a["caused_by"].startswith("j") for a in reminders)
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        statuses = set((await session.scalars(select(ActionRecord.status))).all())
    await engine.dispose()
    assert statuses == {"skipped"}


async def test_playbook_is_applied_to_the_files_groups_first(
        database_url: str, tmp_path: Path, events_file: Path) -> None:
    registry = checkin_registry(on_by_default=False)
    playbook = tmp_path / "playbook.toml"
    playbook.write_text('version = 1\nname = "回放试验"\n\n[features.checkin]\nenabled = true\n'
                        'reply = "打卡成功！"\n', encoding="utf-8")
    out = tmp_path / "actions.jsonl"
    summary = await replay(config(database_url, tmp_path), events_file, registry=registry,
                           playbook=playbook, actions_out=out)
    texts = {orjson.loads(line)["data"]["text"] for line in out.read_bytes().splitlines()}
    assert summary.actions_written and "打卡成功！" in texts
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        groups = (await session.execute(select(func.count(), func.count(Group.playbook_id)))).one()
    await engine.dispose()
    assert groups[0] == groups[1] == SIMULATION.groups


async def test_without_playbook_the_feature_stays_off(
        database_url: str, tmp_path: Path, events_file: Path) -> None:
    summary = await replay(config(database_url, tmp_path), events_file,
                           registry=checkin_registry(on_by_default=False),
                           actions_out=tmp_path / "actions.jsonl")
    assert summary.actions_written == 0


async def test_replay_needs_a_replay_runtime(database_url: str, tmp_path: Path,
                                            events_file: Path) -> None:
    runtime = await build_runtime(config(database_url, tmp_path), migrate=False)
    try:
        with pytest.raises(ValueError, match="replay=True"):
            await replay_into(runtime, 1, read_lines(events_file))
    finally:
        await runtime.close()


def test_cli_replay_prints_a_summary(database_url: str, tmp_path: Path,
                                     events_file: Path) -> None:
    with events_file.open("ab") as handle:
        handle.write(b'{"v": 1, "id": "x"}\n')
    runner = CliRunner()
    result = runner.invoke(app, ["replay", str(events_file), "--db", database_url, "--quiet",
                                 "--json"])
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["rejected"] == 1 and summary["accepted"] > 1000
    assert summary["problems"][0]["line"] == summary["accepted"] + 1
    result = runner.invoke(app, ["replay", str(events_file), "--db", database_url, "--quiet"],
                           env={"QUNYUN_LANGUAGE": "en"})
    assert result.exit_code == 0, result.output
    assert "Duplicates" in result.stdout and f"line {summary['accepted'] + 1}" in result.stdout


def test_cli_replay_of_a_missing_file_fails_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["replay", str(tmp_path / "nope.jsonl"), "--db",
                                      str(tmp_path / "q.db"), "--quiet"])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


async def _state(url: str, tmp_path: Path) -> ReplayState:
    runtime = await build_runtime(config(url, tmp_path), replay=True, migrate=False)
    try:
        return await replay_state(runtime.sessions, 1)
    finally:
        await runtime.close()
