"""The help feature: 帮助 / 菜单 / help lists the features this group has on, with their usage."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Group
from qunyun.core.errors import InvalidInput
from qunyun.core.features import Feature, FeatureContext, FeatureRegistry, FeatureSettings
from qunyun.features.help.menu import MAX_CHARS, compose_menu
from qunyun.features.help.plugin import FEATURE as HELP
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.playbook import do_set_layer_values, parse_playbook
from tests import factories as f
from tests.conftest import START
from tests.pipeline.conftest import RuntimeFactory


class ToySettings(FeatureSettings):
    keyword: str = "玩"


async def _nothing(ctx: FeatureContext) -> None:
    return None


def _usage_of(name: str) -> Any:
    def usage(settings: ToySettings, locale: str) -> list[str]:
        return [f"{settings.keyword}：{name} 的用法"]
    return usage


def toy(name: str, *, on: bool, usage: bool = True, order: int = 500) -> Feature:
    """A test-only feature with a usage line naming it."""
    return Feature(name=name, title=name.title(), description=f"test-only {name}", order=order,
                   events=frozenset(), settings_model=ToySettings, handle=_nothing,
                   on_by_default=on, usage=_usage_of(name) if usage else None)


async def turn_on(rt: Runtime, org: int, section: str, *, group: str | None = None,
                  **values: Any) -> None:
    await configure(rt, org, section, group=group, enabled=True, **values)


async def configure(rt: Runtime, org: int, section: str, *, group: str | None = None,
                    **values: Any) -> None:
    async with rt.sessions() as session:
        scope, scope_id = "organization", org
        if group is not None:
            group_id = await session.scalar(select(Group.id).where(Group.platform_id == group))
            assert group_id is not None
            scope, scope_id = "group", group_id
        await do_set_layer_values(session, rt.registry, org_id=org, scope=scope,
                                  scope_id=scope_id, section=section,
                                  values=values, at=START)
        await session.commit()


async def replies(rt: Runtime) -> list[ActionRecord]:
    async with rt.sessions() as session:
        return list((await session.scalars(
            select(ActionRecord).where(ActionRecord.feature == "help")
            .order_by(ActionRecord.seq))).all())


async def test_help_lists_only_the_features_that_are_on(make_runtime: RuntimeFactory) -> None:
    # First in order, so builtin features' sections never push them past the length limit.
    rt, org = await make_runtime(toy("alpha", on=True, order=1), toy("beta", on=False, order=2),
                                 toy("gamma", on=True, usage=False, order=3))
    await turn_on(rt, org, "help")
    asked = f.message("u1", "帮助")
    await rt.pipeline.ingest(org, [asked])
    [reply] = await replies(rt)
    text = reply.data["text"]
    assert text.startswith("本群功能一览：\n")
    assert "【Alpha】\n玩：alpha 的用法" in text
    assert "Beta" not in text and "beta" not in text  # off
    assert "Gamma" not in text  # on, but has nothing to tell members
    assert "帮助 / 菜单 / help" not in text  # not itself
    assert reply.data["reply_to"] == asked["data"]["message_id"]

    await turn_on(rt, org, "beta", group="g1", keyword="来")
    await rt.pipeline.ingest(org, [f.message("u1", "菜单")])
    text = (await replies(rt))[-1].data["text"]
    assert "【Alpha】\n玩：alpha 的用法" in text and "【Beta】\n来：beta 的用法" in text
    assert text.index("Alpha") < text.index("Beta")  # the registry's order


async def test_the_keywords_as_members_type_them(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(toy("alpha", on=True))
    await turn_on(rt, org, "help")
    await rt.pipeline.ingest(org, [f.message("u1", text) for text in (
        "/help", "ＨＥＬＰ", "＃菜单 ", "帮助 签到", "谁能帮助我", "help me", "帮助一下")])
    assert len(await replies(rt)) == 3

    await turn_on(rt, org, "help", keywords=["功能"])
    await rt.pipeline.ingest(org, [f.message("u1", "功能"), f.message("u1", "帮助")])
    assert len(await replies(rt)) == 4


async def test_help_is_off_by_default(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(toy("alpha", on=True))
    await rt.pipeline.ingest(org, [f.message("u1", "帮助")])
    assert await replies(rt) == []


async def test_a_group_with_nothing_to_tell(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(toy("alpha", on=True))
    await configure(rt, org, "community", language="en")
    for feature in rt.registry:
        if feature.usage is not None:
            await configure(rt, org, feature.name, enabled=False)
    await turn_on(rt, org, "help")
    await rt.pipeline.ingest(org, [f.message("u1", "help")])
    assert [r.data["text"] for r in await replies(rt)] == [
        "This group has no commands turned on yet."]


# --- the reply, without a database ---------------------------------------------------------


def _broken_usage(settings: Any, locale: str) -> list[str]:
    raise RuntimeError("a bug in another feature")


def test_a_long_menu_is_cut_with_a_count() -> None:
    features = [toy(f"f{i:03d}", on=True, order=i) for i in range(100)]
    registry = FeatureRegistry(features)
    settings = {f.name: f.default_settings() for f in features}
    text = compose_menu(registry, settings, "zh_CN")
    shown = text.count("【")
    assert 0 < shown < 100 and len(text) <= MAX_CHARS + 20
    assert text.endswith(f"……还有 {100 - shown} 项")


def test_a_failing_usage_is_left_out() -> None:
    broken = Feature(name="broken", title="Broken", description="", order=1,
                     events=frozenset(), settings_model=ToySettings, handle=_nothing,
                     on_by_default=True, usage=_broken_usage)
    features = [broken, toy("alpha", on=True)]
    settings = {f.name: f.default_settings() for f in features}
    text = compose_menu(FeatureRegistry(features), settings, "en")
    assert text == "What this group has on:\n[Alpha]\n玩：alpha 的用法"


def test_usage_of_help_itself() -> None:
    assert HELP.usage is not None
    assert HELP.usage(HELP.default_settings(), "zh_CN") == [
        "帮助 / 菜单 / help：查看本群功能及用法"]


@pytest.mark.parametrize("table, expected", [
    ('keywords = ["帮 助"]', "features.help.keywords: each keyword is one word, without spaces"),
    ('keywords = [" "]', "features.help.keywords: each keyword is one word, without spaces"),
    ("keywords = []", "features.help.keywords: must have at least 1 items or characters"),
])
def test_bad_keywords_are_settings_errors(table: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(f'version = 1\nname = "p"\n[features.help]\n{table}\n',
                       FeatureRegistry([HELP]))
    assert [str(e) for e in caught.value.errors] == [expected]
