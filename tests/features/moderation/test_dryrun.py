"""The dry run on history: a rule set tried on the last N days of the event log says, message by
message, what it would have caught (rule, match span, ladder action) — with the function the live
handler uses, so turning the rules on catches the same messages. Nothing is written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from qunyun.app.bootstrap import build_runtime, ensure_default_org
from qunyun.app.moderation_dryrun import (
    current_settings,
    dry_run,
    find_groups,
    settings_from_json,
    settings_from_toml,
)
from qunyun.cli.main import app
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.errors import InvalidInput, NotFound
from qunyun.features.moderation.models import ModerationCase
from tests import factories as f
from tests.conftest import START
from tests.features.moderation.test_handlers import moderation_chat
from tests.features.redpacket.conftest import Chat

DAY = 24 * 60
RULES = {"banned_words": ["代开发票"], "ladder": ["warn", "mute:600"],
         "links": {"enabled": True, "allow": ["qunyun.example"]}}


def history() -> list[dict[str, Any]]:
    """Ten days of a group: ordinary chat, an advertiser, a newcomer with a link."""
    events = [f.joined("old", minutes=-20 * DAY), f.joined("ad", minutes=-10 * DAY)]
    for day in range(10):
        events.append(f.message("old", f"第{day}天 早上好", minutes=-day * DAY))
    events += [f.message("ad", "代开发票 优惠", minutes=-5 * DAY, name="小广告"),
               f.message("ad", "专业代 开 发 票", minutes=-4 * DAY, name="小广告"),
               f.message("old", "官网 https://qunyun.example/a", minutes=-3 * DAY),
               f.message("ad", "看 http://spam.example/x", minutes=-2 * DAY, name="小广告"),
               f.message("old", "十天以前的 代开发票", minutes=-12 * DAY)]
    return events


@pytest.fixture
async def chat(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Chat]:
    made = await moderation_chat(database_url, tmp_path, clock)
    await made.enable(enabled=False)  # history happened with moderation off
    await made.rt.pipeline.ingest(made.org, history())
    yield made
    await made.rt.close()


async def test_the_dry_run_lists_what_would_have_been_caught(chat: Chat) -> None:
    async with chat.rt.sessions() as session:
        [group] = await find_groups(session, org_id=chat.org, refs=["bridge:g1"])
        report = await dry_run(session, org_id=chat.org,
                               settings={group: settings_from_json(orjson.dumps(RULES).decode())},
                               until=START, days=7)
        cases = await session.scalar(select(func.count()).select_from(ModerationCase))
    assert report.messages == 11  # 7 days of "早上好", the official link, the advertiser's 3
    assert [(h.rule, h.text[h.start:h.end], h.action) for h in report.hits] == [
        ("banned_words", "代开发票", "delete+warn"),
        ("banned_words", "代 开 发 票", "delete+mute:600"),
        ("links", "http://spam.example/x", "delete+mute:600")]
    assert report.hits[0].name == "小广告" and dict(report.by_rule) == {"banned_words": 2,
                                                                        "links": 1}
    assert cases == 0  # nothing is written


async def test_turned_on_the_rules_catch_the_same_messages(chat: Chat) -> None:
    """The live handler and the dry run share `rules.evaluate`: replaying the history into a
    group with the rules on opens a case for exactly the messages the dry run listed."""
    async with chat.rt.sessions() as session:
        [group] = await find_groups(session, org_id=chat.org, refs=["g1"])
        report = await dry_run(session, org_id=chat.org,
                               settings={group: settings_from_json(orjson.dumps(RULES).decode())},
                               until=START, days=30)
    await chat.enable(enabled=True, **RULES)
    replayed = [{**e, "id": f"again-{e['id']}", "group": "g2"} for e in history()]
    await chat.rt.pipeline.ingest(chat.org, replayed)
    async with chat.rt.sessions() as session:
        live = list(await session.scalars(select(ModerationCase).order_by(ModerationCase.at)))
    assert [(c.rule, c.text, c.action) for c in live] == \
        [(h.rule, h.text, h.action) for h in sorted(report.hits, key=lambda h: h.at)]
    assert len(live) == 4


async def test_current_settings_and_bad_input(chat: Chat) -> None:
    await chat.enable(enabled=False, banned_words=["早上好"])
    async with chat.rt.sessions() as session:
        [group] = await find_groups(session, org_id=chat.org, refs=["g1"])
        settings = await current_settings(session, chat.rt.registry, org_id=chat.org,
                                          group_ids=[group])
        assert settings[group].banned_words == ["早上好"]
        report = await dry_run(session, org_id=chat.org, settings=settings, until=START, days=3)
        assert report.by_rule["banned_words"] == 3
        with pytest.raises(InvalidInput):
            await dry_run(session, org_id=chat.org, settings=settings, until=START, days=0)
        with pytest.raises(NotFound):
            await find_groups(session, org_id=chat.org, refs=["bridge:nope"])
    with pytest.raises(InvalidInput) as caught:
        settings_from_toml('[features.moderation]\nladder = ["ban"]\n')
    assert str(caught.value.errors[0]).startswith("features.moderation.ladder: unknown step")
    with pytest.raises(InvalidInput):
        settings_from_json("[1, 2]")


def test_the_cli_prints_the_dry_run(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"

    async def record() -> None:
        runtime = await build_runtime(Config(data_dir=tmp_path, database_url=url),
                                      clock=ManualClock(START))
        org = await ensure_default_org(runtime.write_sessions, START)
        await runtime.pipeline.ingest(org, history())
        await runtime.close()

    asyncio.run(record())
    playbook = tmp_path / "p.toml"
    playbook.write_text('version = 1\nname = "p"\n[features.moderation]\nenabled = true\n'
                        'banned_words = ["代开发票"]\n', encoding="utf-8")
    result = CliRunner().invoke(app, [
        "moderation", "dry-run", "--group", "bridge:g1", "--playbook", str(playbook),
        "--days", "7", "--until", START.isoformat(), "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    body = orjson.loads(result.stdout)
    assert (body["messages"], body["caught"]) == (11, 2)
    assert [h["action"] for h in body["hits"]] == ["delete+warn", "delete+warn"]
    bad = CliRunner().invoke(app, ["moderation", "dry-run", "--group", "g1", "--settings-json",
                                   '{"ladder": ["ban"]}', "--db", url])
    assert bad.exit_code == 2 and "features.moderation.ladder" in bad.output
