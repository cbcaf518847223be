"""Layered settings: defaults → organization → community → playbook → group; setting one layer;
choosing groups; the JSON Schema; the `settings` commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qunyun.app.bootstrap import Runtime, ensure_default_org
from qunyun.community.models import Community, SettingsLayer
from qunyun.community.service import do_create_community, do_create_organization
from qunyun.community.settings import GroupScope
from qunyun.core.clock import ManualClock
from qunyun.core.errors import InvalidInput, NotFound, QunyunError
from qunyun.pipeline.playbook import (
    GroupSelection,
    describe_settings,
    do_apply_playbook,
    do_set_layer_values,
    parse_playbook,
    playbook_schema,
    resolve_selection,
)
from qunyun.pipeline.settings_cache import SettingsCache
from tests.fixtures.playbook_features import (
    START,
    build_contract_runtime,
    contract_registry,
    create_groups,
    make_cli_database,
)


@pytest.fixture
async def rt(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = await build_contract_runtime(database_url, tmp_path / "data", clock)
    yield runtime
    await runtime.close()


@pytest.fixture
async def org(rt: Runtime) -> int:
    return await ensure_default_org(rt.sessions, START)


async def community(rt: Runtime, org: int, name: str | None = None) -> int:
    async with rt.sessions() as session:
        if name is None:
            found = await session.scalar(select(Community.id).where(Community.org_id == org))
            assert found is not None
            return found
        created = await do_create_community(session, org_id=org, name=name, at=START)
        await session.commit()
        return created.id


async def set_layer(rt: Runtime, org: int, scope: str, scope_id: int, section: str,
                    unset: tuple[str, ...] = (), **values: Any) -> dict[str, Any]:
    async with rt.sessions() as session:
        stored = await do_set_layer_values(session, rt.registry, org_id=org, scope=scope,
                                           scope_id=scope_id, section=section, values=values,
                                           unset=unset, at=START)
        await session.commit()
        return stored


async def apply(rt: Runtime, org: int, text: str, group_ids: list[int]) -> None:
    async with rt.sessions() as session:
        await do_apply_playbook(session, org_id=org, spec=parse_playbook(text, rt.registry),
                                source_text=text, group_ids=group_ids, at=START)
        await session.commit()


async def setting(rt: Runtime, group_id: int, section: str, key: str) -> tuple[Any, str]:
    async with rt.sessions() as session:
        item = (await describe_settings(session, rt.registry, group_id=group_id))[section][key]
    return item["value"], item["source"]


# --- layering ----------------------------------------------------------------------------


async def test_each_layer_wins_over_the_ones_below(rt: Runtime, org: int) -> None:
    home = await community(rt, org)
    g1, g2 = await create_groups(rt, org, "g1", "g2")
    assert await setting(rt, g1, "signin", "points") == (5, "default")
    await set_layer(rt, org, "organization", org, "signin", points=1)
    assert await setting(rt, g1, "signin", "points") == (1, "organization")
    await set_layer(rt, org, "community", home, "signin", points=2)
    assert await setting(rt, g1, "signin", "points") == (2, "community")
    await apply(rt, org, 'version = 1\nname = "p"\n[features.signin]\npoints = 3\n', [g1])
    assert await setting(rt, g1, "signin", "points") == (3, "playbook")
    await set_layer(rt, org, "group", g1, "signin", points=4)
    assert await setting(rt, g1, "signin", "points") == (4, "group")
    assert await setting(rt, g2, "signin", "points") == (2, "community")
    await set_layer(rt, org, "group", g1, "signin", unset=("points",))
    assert await setting(rt, g1, "signin", "points") == (3, "playbook")


async def test_the_pipeline_cache_shares_settings_only_between_alike_groups(
        rt: Runtime, org: int) -> None:
    """Groups without layers of their own share one settings object per (community,
    playbook); a group with its own layer gets its own values."""
    home = await community(rt, org)
    other = await community(rt, org, "other")
    g1, g2, g3 = await create_groups(rt, org, "g1", "g2", "g3")
    await set_layer(rt, org, "community", home, "signin", points=2)
    await set_layer(rt, org, "community", other, "signin", points=7)
    await set_layer(rt, org, "group", g1, "signin", points=4)
    cache = SettingsCache(rt.registry)
    async with rt.sessions() as session:
        await cache.refresh(session, org)
    first, second, third, elsewhere = (
        cache.for_group(GroupScope(org, community_id, None, group_id))
        for community_id, group_id in ((home, g1), (home, g2), (home, g3), (other, 99)))
    assert first.features["signin"].points == 4
    assert second is third and second.features["signin"].points == 2
    assert elsewhere.features["signin"].points == 7


async def test_the_community_section_is_layered_too(rt: Runtime, org: int) -> None:
    other = await community(rt, org, "英语角")
    (g1,) = await create_groups(rt, org, "g1")
    (g2,) = await create_groups(rt, org, "g2", community_id=other)
    await set_layer(rt, org, "organization", org, "community", timezone="Europe/Paris")
    await set_layer(rt, org, "community", other, "community", language="en")
    assert await setting(rt, g1, "community", "timezone") == ("Europe/Paris", "organization")
    # The organization record's own language counts as its layer.
    assert await setting(rt, g1, "community", "language") == ("zh_CN", "organization")
    assert await setting(rt, g2, "community", "language") == ("en", "community")


async def test_describe_settings_covers_every_section_and_key(rt: Runtime, org: int) -> None:
    (g1,) = await create_groups(rt, org, "g1")
    async with rt.sessions() as session:
        described = await describe_settings(session, rt.registry, group_id=g1)
    assert list(described) == ["community", "moderation", "welcome", "signin", "autoreply",
                               "stats"]
    assert described["welcome"] == {"enabled": {"value": True, "source": "default"},
                                    "text": {"value": "欢迎 {name}！", "source": "default"}}
    assert described["moderation"]["enabled"] == {"value": False, "source": "default"}


async def test_describe_settings_of_another_organizations_group(rt: Runtime, org: int) -> None:
    (g1,) = await create_groups(rt, org, "g1")
    async with rt.sessions() as session:
        with pytest.raises(NotFound):
            await describe_settings(session, rt.registry, group_id=g1, org_id=org + 1)
        with pytest.raises(NotFound):
            await describe_settings(session, rt.registry, group_id=g1 + 100)


# --- setting one layer -------------------------------------------------------------------


async def test_setting_keys_keeps_the_other_keys_of_the_layer(rt: Runtime, org: int) -> None:
    (g1,) = await create_groups(rt, org, "g1")
    await set_layer(rt, org, "group", g1, "signin", points=7)
    stored = await set_layer(rt, org, "group", g1, "signin", keywords=["到"])
    assert stored == {"points": 7, "keywords": ["到"]}
    async with rt.sessions() as session:
        values = await session.scalar(select(SettingsLayer.values))
    assert values == {"points": 7, "keywords": ["到"]}


BAD_VALUES = {
    "unknown key": ("signin", {"bonus": 1}, ["features.signin.bonus: unknown key"]),
    "wrong type": ("signin", {"points": "7"}, ["features.signin.points: must be an integer"]),
    "invalid value": ("signin", {"points": -2},
                      ["features.signin.points: must be a positive integer"]),
    "unknown feature": ("lottery", {"enabled": True}, ["features.lottery: unknown feature"]),
    "unknown timezone": ("community", {"timezone": "Nowhere"},
                         ["community.timezone: unknown IANA time zone: Nowhere"]),
    "several": ("moderation", {"ladder": "kick", "banned_words": [1]},
                ["features.moderation.banned_words.0: must be a string",
                 "features.moderation.ladder: must be a list"]),
}


@pytest.mark.parametrize("section, values, expected", BAD_VALUES.values(),
                         ids=BAD_VALUES.keys())
async def test_bad_values_are_refused_and_nothing_is_written(
        rt: Runtime, org: int, section: str, values: dict[str, Any],
        expected: list[str]) -> None:
    (g1,) = await create_groups(rt, org, "g1")
    with pytest.raises(InvalidInput) as caught:
        await set_layer(rt, org, "group", g1, section, **values)
    assert [str(e) for e in caught.value.errors] == expected
    async with rt.sessions() as session:
        assert (await session.scalars(select(SettingsLayer))).all() == []


async def test_layers_that_cannot_be_set_directly(rt: Runtime, org: int) -> None:
    (g1,) = await create_groups(rt, org, "g1")
    async with rt.sessions() as session:
        other = (await do_create_organization(session, name="O", slug="o", at=START)).id
        await session.commit()
    (theirs,) = await create_groups(rt, other, "g9")
    with pytest.raises(InvalidInput):
        await set_layer(rt, org, "playbook", 1, "signin", points=1)
    with pytest.raises(NotFound):
        await set_layer(rt, org, "group", theirs, "signin", points=1)
    with pytest.raises(NotFound):
        await set_layer(rt, org, "organization", other, "signin", points=1)
    with pytest.raises(InvalidInput) as caught:
        await set_layer(rt, org, "group", g1, "signin", unset=("points",))
    assert [str(e) for e in caught.value.errors] == [
        "features.signin.points: is not set at this layer"]


# --- choosing groups ---------------------------------------------------------------------


async def select_groups(rt: Runtime, org: int, **kw: Any) -> list[int]:
    async with rt.sessions() as session:
        return await resolve_selection(session, org_id=org, selection=GroupSelection(**kw))


async def test_choosing_groups(rt: Runtime, org: int) -> None:
    other = await community(rt, org, "英语角")
    g1, g2 = await create_groups(rt, org, "g1", "g2", purpose="member", tags=["北京"])
    (g3,) = await create_groups(rt, org, "g3", community_id=other, tags=["上海"])
    assert await select_groups(rt, org, groups=("bridge:g1", str(g3))) == [g1, g3]
    assert await select_groups(rt, org, community="英语角") == [g3]
    assert await select_groups(rt, org, tag="北京") == [g1, g2]
    assert await select_groups(rt, org, purpose="member") == [g1, g2]
    with pytest.raises(InvalidInput):
        await select_groups(rt, org, purpose="member", tag="上海")
    assert await select_groups(rt, org, all=True) == [g1, g2, g3]


BAD_SELECTIONS = {
    "nothing chosen": ({}, "choose groups by name, by community, tag or type, or all of them"),
    "two ways": ({"groups": ("bridge:g1",), "all": True},
                 "choose groups one way only: by name, by filters, or all of them"),
    "unknown group": ({"groups": ("bridge:g1", "bridge:nope", "999")},
                      "no group bridge:nope, 999 in this organization"),
    "not a group name": ({"groups": ("g1",)},
                         "name a group as platform:id or by its number, not g1"),
    "unknown community": ({"community": "nope"}, "no community named nope"),
    "unknown tag": ({"tag": "nope"}, "no tag named nope"),
    "unknown type": ({"purpose": "vip"}, "type must be one of: acquisition, conversion, member, "
                                         "course, popup, flash_sale, partner, other"),
    "empty": ({"purpose": "course"}, "no group matches the selection"),
}


@pytest.mark.parametrize("selection, message", BAD_SELECTIONS.values(),
                         ids=BAD_SELECTIONS.keys())
async def test_bad_selections(rt: Runtime, org: int, selection: dict[str, Any],
                              message: str) -> None:
    await create_groups(rt, org, "g1")
    with pytest.raises(QunyunError) as caught:
        await select_groups(rt, org, **selection)
    assert caught.value.render("en") == message


# --- the JSON Schema ---------------------------------------------------------------------


def test_the_schema_describes_every_section() -> None:
    schema = playbook_schema(contract_registry())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["version", "name"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["version"]["const"] == 1
    definitions = schema["$defs"]
    features = definitions["Features"]["properties"]
    assert list(features) == ["moderation", "welcome", "signin", "autoreply", "stats"]
    assert features["welcome"]["title"] == "Welcome"
    signin = definitions[features["signin"]["$ref"].rsplit("/", 1)[-1]]
    assert signin["additionalProperties"] is False
    assert signin["properties"]["points"]["exclusiveMinimum"] == 0
    assert signin["properties"]["enabled"]["default"] is True  # on by default
    autoreply = definitions[features["autoreply"]["$ref"].rsplit("/", 1)[-1]]
    assert autoreply["properties"]["enabled"]["default"] is False
    assert "AutoreplyRule" in definitions
    assert definitions["CommunitySettings"]["properties"]["timezone"]["default"] == \
        "Asia/Shanghai"


# --- the `settings` commands -------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file with one group (bridge:g1) and the contract's features."""
    monkeypatch.setattr("qunyun.app.bootstrap.builtin_registry", contract_registry)
    monkeypatch.setattr("qunyun.cli.playbook.builtin_registry", contract_registry)
    return make_cli_database(tmp_path, sqlite_template, "g1")


def invoke(*args: str) -> Any:
    from qunyun.cli.main import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_settings_set_and_show(cli_db: str) -> None:
    result = invoke("settings", "set", "--db", cli_db, "--group", "bridge:g1",
                    "signin.points=12", 'welcome.text="Hi"', "community.timezone='UTC'")
    assert result.exit_code == 0, result.output
    result = invoke("settings", "set", "--db", cli_db, "--org-wide", "signin.keywords=['到']")
    assert result.exit_code == 0, result.output
    result = invoke("settings", "show", "--db", cli_db, "--group", "bridge:g1", "--json")
    assert result.exit_code == 0, result.output
    shown = orjson.loads(result.stdout)
    assert shown["group"] == "bridge:g1"
    assert shown["settings"]["signin"]["points"] == {"value": 12, "source": "group"}
    assert shown["settings"]["signin"]["keywords"] == {"value": ["到"],
                                                       "source": "organization"}
    assert shown["settings"]["community"]["timezone"] == {"value": "UTC", "source": "group"}
    table = invoke("settings", "show", "--db", cli_db, "--group", "1").stdout
    assert "features.signin.points" in table
    assert "group" in table and "organization" in table and "default" in table
    result = invoke("settings", "unset", "--db", cli_db, "--group", "bridge:g1",
                    "features.signin.points")
    assert result.exit_code == 0, result.output
    shown = orjson.loads(invoke("settings", "show", "--db", cli_db, "--group", "bridge:g1",
                                "--json").stdout)
    assert shown["settings"]["signin"]["points"] == {"value": 5, "source": "default"}


def test_settings_set_reports_every_error(cli_db: str) -> None:
    result = invoke("settings", "set", "--db", cli_db, "--group", "bridge:g1",
                    "signin.points=0", "welcome.text=Hi", "signin", "lottery.x=1")
    assert result.exit_code == 2
    assert "welcome.text: is not a TOML value (put text in quotes)" in result.output
    assert "signin: write FEATURE.KEY=VALUE, for example signin.points=10" in result.output
    result = invoke("settings", "set", "--db", cli_db, "--group", "bridge:g1",
                    "signin.points=0", "lottery.x=1")
    assert result.exit_code == 2
    assert "features.signin.points: must be a positive integer" in result.output
    assert "features.lottery: unknown feature" in result.output
    shown = orjson.loads(invoke("settings", "show", "--db", cli_db, "--group", "bridge:g1",
                                "--json").stdout)
    assert shown["settings"]["signin"]["points"]["source"] == "default"


def test_settings_set_needs_one_layer(cli_db: str) -> None:
    result = invoke("settings", "set", "--db", cli_db, "signin.points=3")
    assert result.exit_code == 2
    assert "choose one layer: --group, --community or --org-wide" in result.output
    result = invoke("settings", "set", "--db", cli_db, "--community", "nope", "signin.points=3")
    assert result.exit_code == 2
    assert "no community named nope" in result.output

