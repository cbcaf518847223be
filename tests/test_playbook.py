"""Playbooks end to end: parse and validate, apply, diff, and the pipeline using the result."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner, Result

from qunyun.app.bootstrap import Runtime, ensure_default_org
from qunyun.community.models import Group, Organization, Playbook, SettingsLayer
from qunyun.core.clock import ManualClock
from qunyun.core.errors import InvalidInput
from qunyun.db.engine import create_engine, session_factory
from qunyun.features.stats.models import DailyStats
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.playbook import (
    describe_settings,
    diff_playbook,
    do_apply_playbook,
    do_set_group_setting,
    parse_playbook,
)
from tests import factories
from tests.fixtures.playbook_features import (
    START,
    build_contract_runtime,
    contract_registry,
    create_groups,
    make_cli_database,
    playbook_text,
)

CONTRACT = playbook_text("contract_example.toml")


@pytest.fixture
async def rt(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = await build_contract_runtime(database_url, tmp_path / "data", clock)
    yield runtime
    await runtime.close()


@pytest.fixture
async def org(rt: Runtime) -> int:
    return await ensure_default_org(rt.sessions, START)


async def apply(rt: Runtime, org: int, text: str, group_ids: list[int]) -> None:
    """Parse and apply in one transaction, as the CLI does."""
    spec = parse_playbook(text, rt.registry)
    async with rt.sessions() as session:
        await do_apply_playbook(session, org_id=org, spec=spec, source_text=text,
                                group_ids=group_ids, at=START)
        await session.commit()


async def describe(rt: Runtime, group_id: int) -> dict[str, dict[str, dict[str, Any]]]:
    async with rt.sessions() as session:
        return await describe_settings(session, rt.registry, group_id=group_id)


async def snapshot(session: AsyncSession) -> tuple[Any, ...]:
    """Everything applying a playbook may touch."""
    return (
        (await session.execute(select(Playbook.name, Playbook.source))).all(),
        (await session.execute(select(SettingsLayer.scope, SettingsLayer.scope_id,
                                      SettingsLayer.feature, SettingsLayer.values))).all(),
        (await session.execute(select(Group.id, Group.playbook_id).order_by(Group.id))).all(),
        (await session.execute(select(Organization.id, Organization.settings_revision))).all(),
    )


# --- parsing -----------------------------------------------------------------------------


def test_the_contract_example_parses() -> None:
    spec = parse_playbook(CONTRACT, contract_registry())
    assert spec.name == "城市会员群标准配置"
    assert spec.version == 1
    assert dict(spec.sections) == {
        "community": {"timezone": "Asia/Shanghai", "language": "zh_CN"},
        "welcome": {"enabled": True, "text": "欢迎 {name} 加入{group}！发送「签到」领取今日积分。"},
        "signin": {"enabled": True, "keywords": ["签到", "打卡"], "points": 10},
        "autoreply": {"rules": [{"keywords": ["营业时间"], "match": "contains",
                                 "reply": "门店营业时间：每天 10:00–22:00"}]},
        "moderation": {"enabled": True, "banned_words": ["代开发票", "加微信领红包"],
                       "ladder": ["warn", "warn", "mute:600", "mute:86400", "kick"]},
    }


def test_a_playbook_sets_only_the_keys_it_mentions() -> None:
    spec = parse_playbook('version = 1\nname = "p"\n[features.signin]\npoints = 7\n',
                          contract_registry())
    assert dict(spec.sections) == {"signin": {"points": 7}}


HEAD = 'version = 1\nname = "p"\n'
BAD_PLAYBOOKS = {
    "unknown top-level key": (HEAD + 'colour = "red"\n', ["colour: unknown key"]),
    "unknown key": (HEAD + "[features.signin]\nbonus = 1\n",
                    ["features.signin.bonus: unknown key"]),
    "wrong type": (HEAD + '[features.signin]\npoints = "10"\n',
                   ["features.signin.points: must be an integer"]),
    "wrong type, bool": (HEAD + '[features.welcome]\nenabled = "yes"\n',
                         ["features.welcome.enabled: must be true or false"]),
    "invalid value": (HEAD + "[features.signin]\npoints = 0\n",
                      ["features.signin.points: must be a positive integer"]),
    "invalid value, custom check": (HEAD + '[features.moderation]\nladder = ["warn", "ban"]\n',
                                    ["features.moderation.ladder: "
                                     "each step is warn, mute:SECONDS or kick"]),
    "invalid nested value": (HEAD + '[[features.autoreply.rules]]\nkeywords = ["a"]\n'
                             'match = "fuzzy"\nreply = "b"\n',
                             ["features.autoreply.rules.0.match: "
                              "must be one of: 'exact', 'contains' or 'regex'"]),
    "missing nested key": (HEAD + '[[features.autoreply.rules]]\nkeywords = ["a"]\n',
                           ["features.autoreply.rules.0.reply: is required"]),
    "unknown feature": (HEAD + "[features.lottery]\nenabled = true\n",
                        ["features.lottery: unknown feature"]),
    "feature not a table": (HEAD + "[features]\nsignin = 3\n",
                            ["features.signin: must be a table"]),
    "features not a table": (HEAD + "features = 3\n", ["features: must be a table"]),
    "community not a table": (HEAD + 'community = "x"\n', ["community: must be a table"]),
    "unknown timezone": (HEAD + '[community]\ntimezone = "Mars/Olympus_Mons"\n',
                         ["community.timezone: unknown IANA time zone: Mars/Olympus_Mons"]),
    "unknown language": (HEAD + '[community]\nlanguage = "fr"\n',
                         ['community.language: must be one of: zh_CN, en']),
    "missing version": ('name = "p"\n', ["version: is required"]),
    "missing name": ("version = 1\n", ["name: is required"]),
    "empty name": ('version = 1\nname = "  "\n', ["name: must not be empty"]),
    "name not a string": ("version = 1\nname = 3\n", ["name: must be a string"]),
    "version not an integer": ('version = "1"\nname = "p"\n', ["version: must be an integer"]),
    "unsupported version": ('version = 2\nname = "p"\n',
                            ["version: unsupported version 2: this qunyun reads version 1"]),
    "bad TOML": (HEAD + "[features.signin]\npoints = = 3\n",
                 ["line 4, column 10: Invalid value"]),
    "bad TOML, duplicate key": (HEAD + 'name = "q"\n', ["line 3, column 11: Cannot overwrite "
                                                       "a value"]),
    "bad TOML at the end": (HEAD + "[features.signin", ["line 3, column 17: Expected ']' at "
                                                       "the end of a table declaration"]),
}


@pytest.mark.parametrize("text, expected", BAD_PLAYBOOKS.values(), ids=BAD_PLAYBOOKS.keys())
def test_bad_playbooks_name_the_key_path_and_the_reason(text: str, expected: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(text, contract_registry())
    assert [str(e) for e in caught.value.errors] == expected


def test_a_toml_error_carries_its_line_and_column() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(HEAD + "[features.signin]\npoints = = 3\n", contract_registry())
    assert caught.value.message == "the playbook is not valid TOML"
    assert dict(caught.value.errors[0].params)["line"] == 4
    assert dict(caught.value.errors[0].params)["column"] == 10


def test_every_error_is_reported_at_once() -> None:
    text = ('name = ""\ncolour = 1\n[community]\ntimezone = "Nowhere"\n'
            '[features.signin]\npoints = -1\nkeywords = "签到"\nbonus = true\n'
            '[features.lottery]\n[features.welcome]\ntext = 3\n')
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(text, contract_registry())
    assert [str(e) for e in caught.value.errors] == [
        "version: is required",
        "name: must not be empty",
        "colour: unknown key",
        "community.timezone: unknown IANA time zone: Nowhere",
        "features.signin.keywords: must be a list",
        "features.signin.points: must be a positive integer",
        "features.signin.bonus: unknown key",
        "features.lottery: unknown feature",
        "features.welcome.text: must be a string",
    ]


def test_validation_is_against_the_registered_features() -> None:
    """The contract's example is valid in full: every table it shows is a built-in feature,
    checked by that feature's own settings model (moderation's fixed keys included)."""
    from qunyun.app.features import builtin_registry

    registry = builtin_registry()
    playbook = parse_playbook(CONTRACT, registry)
    moderation = playbook.sections["moderation"]
    assert moderation["banned_words"] == ["代开发票", "加微信领红包"]
    assert moderation["ladder"] == ["warn", "warn", "mute:600", "mute:86400", "kick"]


# --- applying ----------------------------------------------------------------------------


async def test_the_contract_example_applies(rt: Runtime, org: int) -> None:
    g1, g2, g3 = await create_groups(rt, org, "g1", "g2", "g3")
    await apply(rt, org, CONTRACT, [g1, g2])
    async with rt.sessions() as session:
        playbook = await session.scalar(select(Playbook))
        assert playbook is not None
        assert (playbook.name, playbook.source, playbook.org_id) == \
            ("城市会员群标准配置", CONTRACT, org)
        layers = (await session.execute(
            select(SettingsLayer.scope, SettingsLayer.scope_id, SettingsLayer.feature))).all()
        assert sorted(layers) == sorted(("playbook", playbook.id, s) for s in (
            "community", "welcome", "signin", "autoreply", "moderation"))
        groups = dict((await session.execute(select(Group.id, Group.playbook_id))).all())
        assert groups == {g1: playbook.id, g2: playbook.id, g3: None}
        assert await session.scalar(select(Organization.settings_revision)
                                    .where(Organization.id == org)) == 1
    settings = await describe(rt, g1)
    assert settings["signin"]["points"] == {"value": 10, "source": "playbook"}
    assert settings["moderation"]["ladder"]["source"] == "playbook"
    assert settings["autoreply"]["enabled"] == {"value": False, "source": "default"}
    assert settings["stats"]["enabled"] == {"value": True, "source": "default"}
    assert (await describe(rt, g3))["signin"]["points"] == {"value": 5, "source": "default"}


@pytest.mark.parametrize("text", [v[0] for v in BAD_PLAYBOOKS.values()],
                         ids=list(BAD_PLAYBOOKS.keys()))
async def test_a_bad_playbook_applies_nothing(rt: Runtime, org: int, text: str) -> None:
    (g1,) = await create_groups(rt, org, "g1")
    await apply(rt, org, HEAD + "[features.signin]\npoints = 9\n", [g1])
    async with rt.sessions() as session:
        before = await snapshot(session)
    with pytest.raises(InvalidInput):
        await apply(rt, org, text.replace('name = "p"', 'name = "q"'), [g1])
    async with rt.sessions() as session:
        assert await snapshot(session) == before


async def test_a_group_of_another_organization_is_an_error(rt: Runtime, org: int) -> None:
    from qunyun.community.service import do_create_organization
    from qunyun.core.errors import NotFound

    async with rt.sessions() as session:
        other = (await do_create_organization(session, name="Other", slug="other", at=START)).id
        await session.commit()
    (mine,) = await create_groups(rt, org, "g1")
    (theirs,) = await create_groups(rt, other, "g2")
    async with rt.sessions() as session:
        before = await snapshot(session)
    with pytest.raises(NotFound) as caught:
        await apply(rt, org, CONTRACT, [mine, theirs])
    assert caught.value.render("en") == f"no group {theirs} in this organization"
    async with rt.sessions() as session:
        assert await snapshot(session) == before


async def test_reapplying_a_changed_playbook_replaces_its_layer(rt: Runtime, org: int) -> None:
    g1, g2 = await create_groups(rt, org, "g1", "g2")
    await apply(rt, org, CONTRACT, [g1])
    changed = (CONTRACT.replace("points = 10", "points = 20")
               .split("[features.moderation]")[0])
    await apply(rt, org, changed, [g2])
    async with rt.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Playbook)) == 1
        assert await session.scalar(select(Playbook.source)) == changed
        features = set((await session.scalars(select(SettingsLayer.feature))).all())
        assert features == {"community", "welcome", "signin", "autoreply"}
    for group in (g1, g2):  # g1 was not selected again, but it uses the playbook
        settings = await describe(rt, group)
        assert settings["signin"]["points"] == {"value": 20, "source": "playbook"}
        assert settings["moderation"]["enabled"] == {"value": False, "source": "default"}
        assert settings["moderation"]["ladder"]["source"] == "default"


# --- diff --------------------------------------------------------------------------------


async def diff(rt: Runtime, org: int, text: str, group_ids: list[int]) -> list[dict[str, Any]]:
    async with rt.sessions() as session:
        diffs = await diff_playbook(session, rt.registry, org_id=org,
                                    spec=parse_playbook(text, rt.registry), group_ids=group_ids)
    return [d.as_dict() for d in diffs]


async def test_diff_shows_only_the_keys_that_change(rt: Runtime, org: int) -> None:
    g1, g2 = await create_groups(rt, org, "g1", "g2")
    text = HEAD + ('[community]\ntimezone = "Asia/Shanghai"\n'  # the default already
                   '[features.signin]\nenabled = true\npoints = 8\n'  # enabled: default on
                   '[features.welcome]\ntext = "hi"\n')
    assert await diff(rt, org, text, [g1]) == [{
        "group_id": g1, "group": "bridge:g1", "name": "g1", "selected": True, "changes": [
            {"section": "welcome", "key": "text", "before": "欢迎 {name}！", "after": "hi",
             "before_source": "default", "after_source": "playbook"},
            {"section": "signin", "key": "points", "before": 5, "after": 8,
             "before_source": "default", "after_source": "playbook"},
        ]}]
    await apply(rt, org, text, [g1])
    assert (await diff(rt, org, text, [g1]))[0]["changes"] == []
    changed = text.replace("points = 8", "points = 9")
    result = await diff(rt, org, changed, [g2])
    assert [(d["group"], d["selected"], [(c["key"], c["before"], c["after"])
                                         for c in d["changes"]]) for d in result] == [
        ("bridge:g1", False, [("points", 8, 9)]),
        ("bridge:g2", True, [("text", "欢迎 {name}！", "hi"), ("points", 5, 9)]),
    ]


async def test_diff_reports_the_layer_before_and_after(rt: Runtime, org: int) -> None:
    (g1,) = await create_groups(rt, org, "g1")
    async with rt.sessions() as session:
        await do_set_group_setting(session, rt.registry, org_id=org, group_id=g1,
                                   section="signin", values={"points": 3}, at=START)
        await session.commit()
    text = HEAD + "[features.signin]\npoints = 8\nkeywords = ['到']\n"
    changes = (await diff(rt, org, text, [g1]))[0]["changes"]
    # The group's override stays on top: only the keywords change.
    assert changes == [{"section": "signin", "key": "keywords", "before": ["签到"],
                        "after": ["到"], "before_source": "default",
                        "after_source": "playbook"}]


# --- the pipeline uses what was applied --------------------------------------------------


async def welcome_texts(rt: Runtime) -> list[str]:
    async with rt.sessions() as session:
        rows = await session.scalars(select(ActionRecord.data).where(
            ActionRecord.feature == "welcome").order_by(ActionRecord.seq))
        return [data["text"] for data in rows]


async def test_the_pipeline_uses_the_applied_settings(rt: Runtime, org: int) -> None:
    await rt.pipeline.ingest(org, [factories.joined("u1", minutes=1)])
    assert await welcome_texts(rt) == ["欢迎 {name}！"]
    async with rt.sessions() as session:
        group_id = await session.scalar(select(Group.id).where(Group.platform_id == "g1"))
    assert group_id is not None
    await apply(rt, org, HEAD + '[features.welcome]\ntext = "Welcome aboard"\n', [group_id])
    await rt.pipeline.ingest(org, [factories.joined("u2", minutes=2)])
    async with rt.sessions() as session:
        await do_set_group_setting(session, rt.registry, org_id=org, group_id=group_id,
                                   section="welcome", values={"text": "Hi from the group"},
                                   at=START)
        await session.commit()
    await rt.pipeline.ingest(org, [factories.joined("u3", minutes=3)])
    await apply(rt, org, HEAD + "[features.welcome]\nenabled = false\n", [group_id])
    await rt.pipeline.ingest(org, [factories.joined("u4", minutes=4)])
    assert await welcome_texts(rt) == ["欢迎 {name}！", "Welcome aboard", "Hi from the group"]


async def test_the_playbook_timezone_sets_the_local_day_of_stats(rt: Runtime, org: int) -> None:
    shanghai, utc = await create_groups(rt, org, "g1", "g2")
    await apply(rt, org, HEAD + '[community]\ntimezone = "UTC"\n', [utc])
    late = factories.BASE.replace(hour=23, minute=30)  # 2026-11-22T23:30:00+00:00
    await rt.pipeline.ingest(org, [
        {**factories.message("u1", group=group), "at": late.isoformat()}
        for group in ("g1", "g2")])
    async with rt.sessions() as session:
        days = dict((await session.execute(
            select(DailyStats.group_id, DailyStats.day).where(DailyStats.messages == 1))).all())
    assert days == {shanghai: date(2026, 11, 23), utc: date(2026, 11, 22)}


# --- the `playbook` commands -------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file with groups bridge:g1 and bridge:g2, the contract's features."""
    monkeypatch.setattr("qunyun.app.bootstrap.builtin_registry", contract_registry)
    monkeypatch.setattr("qunyun.cli.playbook.builtin_registry", contract_registry)
    return make_cli_database(tmp_path, sqlite_template, "g1", "g2")


def invoke(*args: str) -> Result:
    from qunyun.cli.main import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def write(tmp_path: Path, text: str, name: str = "playbook.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def database_state(path: str) -> tuple[Any, ...]:
    async def read() -> tuple[Any, ...]:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with session_factory(engine)() as session:
                return await snapshot(session)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_check_prints_ok_and_a_summary(tmp_path: Path, cli_db: str) -> None:
    result = invoke("playbook", "check", write(tmp_path, CONTRACT))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "OK: playbook 城市会员群标准配置 (version 1)",
        "  community: timezone, language",
        "  features.welcome: enabled, text",
        "  features.signin: enabled, keywords, points",
        "  features.autoreply: rules",
        "  features.moderation: enabled, banned_words, ladder",
    ]


def test_check_prints_every_error_with_its_key_path(tmp_path: Path, cli_db: str) -> None:
    text = HEAD + '[features.signin]\npoints = 0\nbonus = 1\n[community]\ntimezone = "X/Y"\n'
    result = invoke("playbook", "check", write(tmp_path, text))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "invalid_input: the playbook is not valid",
        "  features.signin.points: must be a positive integer",
        "  features.signin.bonus: unknown key",
        "  community.timezone: unknown IANA time zone: X/Y",
    ]
    result = invoke("playbook", "check", write(tmp_path, "version = 1\nname = \n"))
    assert result.exit_code == 2
    assert "line 2, column 8: Invalid value" in result.stderr
    result = invoke("playbook", "check", str(tmp_path / "missing.toml"))
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_apply_then_diff(tmp_path: Path, cli_db: str) -> None:
    file = write(tmp_path, CONTRACT)
    result = invoke("playbook", "diff", file, "--group", "bridge:g1", "--db", cli_db)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        "bridge:g1 g1",
        '  features.moderation.enabled: false (default) → true (playbook)',
        '  features.moderation.banned_words: [] (default) → ["代开发票","加微信领红包"] '
        '(playbook)',
    ]
    result = invoke("playbook", "apply", file, "--group", "bridge:g1", "--db", cli_db)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Applied playbook 城市会员群标准配置 to 1 group(s).\n"
    result = invoke("playbook", "diff", file, "--all", "--db", cli_db, "--json")
    assert result.exit_code == 0, result.output
    diffs = orjson.loads(result.stdout)
    assert [(d["group"], d["selected"], len(d["changes"]) > 0) for d in diffs] == [
        ("bridge:g1", True, False), ("bridge:g2", True, True)]
    result = invoke("playbook", "diff", file, "--group", "bridge:g1", "--db", cli_db)
    assert result.stdout == "bridge:g1 g1: no change\n"
    shown = orjson.loads(invoke("settings", "show", "--db", cli_db, "--group", "bridge:g1",
                                "--json").stdout)
    assert shown["playbook"] == "城市会员群标准配置"
    assert shown["settings"]["signin"]["points"] == {"value": 10, "source": "playbook"}


@pytest.mark.parametrize("selection", [["--all"], ["--type", "other"], ["--community", "默认组织"],
                                       ["--group", "1", "--group", "bridge:g2"]])
def test_apply_by_selection(tmp_path: Path, cli_db: str, selection: list[str]) -> None:
    result = invoke("playbook", "apply", write(tmp_path, CONTRACT), *selection, "--db", cli_db)
    assert result.exit_code == 0, result.output
    assert "to 2 group(s)" in result.stdout


def test_a_bad_apply_changes_nothing(tmp_path: Path, cli_db: str) -> None:
    before = database_state(cli_db)
    bad = CONTRACT.replace("points = 10", "points = -10")
    result = invoke("playbook", "apply", write(tmp_path, bad), "--all", "--db", cli_db)
    assert result.exit_code == 2
    assert "features.signin.points: must be a positive integer" in result.stderr
    for selection in (["--tag", "nope"], ["--group", "bridge:g1", "--group", "bridge:g9"], []):
        result = invoke("playbook", "apply", write(tmp_path, CONTRACT), *selection,
                        "--db", cli_db)
        assert result.exit_code == 2, result.output
    assert database_state(cli_db) == before


def test_schema_prints_json_schema(cli_db: str) -> None:
    result = invoke("playbook", "schema")
    assert result.exit_code == 0, result.output
    schema = orjson.loads(result.stdout)
    assert schema["title"] == "qunyun playbook, version 1"
    assert set(schema["$defs"]["Features"]["properties"]) == {
        "welcome", "signin", "autoreply", "moderation", "stats"}
