"""Keyword rules: exact, contains, regex, any-of, priority, cooldown per rule per group, private
replies, variables, invalid settings, and a regex that would never finish."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import SettingsLayer
from qunyun.core.errors import InvalidInput
from qunyun.features.autoreply.matching import compiled_rules
from qunyun.features.autoreply.settings import AutoreplySettings
from qunyun.pipeline.playbook import parse_playbook
from tests import factories as f
from tests.features.autoreply.conftest import configure, rule, sent

HOURS = rule(["营业时间", "几点开门"], "门店营业时间：每天 10:00–22:00")


async def test_contains_and_any_of(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[HOURS])
    await rt.pipeline.ingest(org, [f.message("u1", "请问营业时间是？"),
                                   f.message("u2", "明天几点开门", group="g2"),
                                   f.message("u3", "今天天气不错")])
    assert [t for _, _, t in await sent(rt)] == ["门店营业时间：每天 10:00–22:00"] * 2


async def test_exact_needs_the_whole_message(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[rule(["地址"], "上海市南京路 1 号", match="exact")])
    await rt.pipeline.ingest(org, [f.message("u1", "地址有吗"), f.message("u1", " ＡＤＤＲ "),
                                   f.message("u1", "地址")])
    assert [t for _, _, t in await sent(rt)] == ["上海市南京路 1 号"]


async def test_exact_is_case_and_width_blind(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[rule(["WiFi"], "密码 88888888", match="exact")])
    await rt.pipeline.ingest(org, [f.message("u1", " ｗｉｆｉ ")])
    assert [t for _, _, t in await sent(rt)] == ["密码 88888888"]


async def test_regex(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[rule([r"订单\s*\d{6,}"], "订单问题请私信客服", match="regex")])
    await rt.pipeline.ingest(org, [f.message("u1", "订单 1234"),
                                   f.message("u1", "我的订单 123456")])
    assert [t for _, _, t in await sent(rt)] == ["订单问题请私信客服"]


async def test_priority_then_order(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[
        rule(["会员"], "会员说明"),
        rule(["会员", "价格"], "会员价格表", priority=5),
        rule([r"会员.*价格"], "会员价（正则）", match="regex", priority=9),
        rule(["价格"], "价格表"),
    ])
    await rt.pipeline.ingest(org, [f.message("u1", "会员价格多少"), f.message("u1", "会员"),
                                   f.message("u2", "价格", group="g2")])
    assert [t for _, _, t in await sent(rt)] == ["会员价（正则）", "会员价格表", "会员价格表"]


async def test_cooldown_per_rule_per_group(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[HOURS, rule(["地址"], "南京路 1 号", cooldown_seconds=0)])
    await rt.pipeline.ingest(org, [
        f.message("u1", "营业时间", minutes=0),
        f.message("u2", "营业时间?", minutes=0.2),           # within 30 s: quiet
        f.message("u2", "营业时间", minutes=0.2, group="g2"),  # another group: answered
        f.message("u3", "地址", minutes=0.3),                 # another rule: answered
        f.message("u3", "地址", minutes=0.35),                # no cooldown on this one
    ])
    await rt.pipeline.ingest(org, [f.message("u2", "营业时间", minutes=0.6)])  # after 30 s
    texts = [t for _, _, t in await sent(rt)]
    assert texts.count("门店营业时间：每天 10:00–22:00") == 3
    assert texts.count("南京路 1 号") == 2


async def test_a_rule_in_cooldown_does_not_fall_through_to_the_faq(rt: Runtime,
                                                                   org: int) -> None:
    await configure(rt, org, rules=[HOURS])
    await rt.pipeline.ingest(org, [f.message("u1", "营业时间几点？"),
                                   f.message("u2", "营业时间几点？", minutes=0.1)])
    assert len(await sent(rt)) == 1


async def test_private_reply_goes_to_the_asker(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[rule(["报名"], "报名链接已私信给你", reply_in="private")])
    await rt.pipeline.ingest(org, [f.message("u1", "我要报名"), f.message("u2", "报名+1"),
                                   f.message("u1", "报名", minutes=0.1)])
    # Private answers cool down per asker: u2 is answered too, u1 only once.
    assert await sent(rt) == [("message.send_private", "u1", "报名链接已私信给你"),
                              ("message.send_private", "u2", "报名链接已私信给你")]


async def test_variables(rt: Runtime, org: int) -> None:
    await configure(rt, org,
                    rules=[rule(["现在几点"], "{name} 你好，{group} 现在是 {date} {time}")])
    # 2026-11-22T00:30Z is 08:30 in Shanghai.
    await rt.pipeline.ingest(org, [
        f.message("u1", "现在几点", name="小林", minutes=30),
        f.message("u2", "现在几点", group="g2", minutes=31)])   # no name given: the account's
    assert [t for _, _, t in await sent(rt)] == ["小林 你好，g1 现在是 2026-11-22 08:30",
                                                 "u2 你好，g2 现在是 2026-11-22 08:31"]


async def test_group_layer_overrides_the_community(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[HOURS])
    await rt.pipeline.ingest(org, [f.message("u1", "你好", group="g2")])
    async with rt.sessions() as session:
        from qunyun.community.models import Group
        g2 = await session.scalar(select(Group.id).where(Group.platform_id == "g2"))
    await configure(rt, org, "group", g2, rules=[rule(["营业时间"], "本店 9 点开门")])
    await rt.pipeline.ingest(org, [f.message("u1", "营业时间", minutes=1),
                                   f.message("u1", "营业时间", group="g2", minutes=1)])
    assert [t for _, _, t in await sent(rt)] == ["门店营业时间：每天 10:00–22:00",
                                                 "本店 9 点开门"]


PLAYBOOK = """
version = 1
name = "t"
[[features.autoreply.rules]]
keywords = ["营业时间"]
match = "contains"
reply = "10:00–22:00"
[[features.autoreply.rules]]
keywords = ["地址"]
reply = "{name}，地址在 {where}"
[[features.autoreply.rules]]
keywords = ["([a-z", "ok"]
match = "regex"
reply = "x"
"""


def test_invalid_rules_name_the_key_path(rt: Runtime) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(PLAYBOOK, rt.registry)
    problems = {e.path: e.render("en") for e in caught.value.errors}
    assert set(problems) == {"features.autoreply.rules.1.reply",
                             "features.autoreply.rules.2.keywords.0"}
    assert "unknown variable {where}" in problems["features.autoreply.rules.1.reply"]
    assert "not a valid regular expression" in problems["features.autoreply.rules.2.keywords.0"]


async def test_invalid_settings_change_nothing(rt: Runtime, org: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        await configure(rt, org, rules=[HOURS, rule(["(unclosed"], "x", match="regex")])
    assert [e.path for e in caught.value.errors] == ["features.autoreply.rules.1.keywords.0"]
    async with rt.sessions() as session:
        assert (await session.scalars(select(SettingsLayer))).all() == []
    await rt.pipeline.ingest(org, [f.message("u1", "营业时间")])
    assert await sent(rt) == []  # still off: nothing was applied


def test_other_settings_errors() -> None:
    from pydantic import ValidationError
    with pytest.raises(ValidationError) as caught:
        AutoreplySettings.model_validate({"rules": [
            {"keywords": [], "reply": "x"}, {"keywords": ["a"], "reply": "{time:%H}"},
            {"keywords": ["a"], "reply": "x", "reply_in": "dm"}],
            "faq_threshold": 0.3, "faq_suggest_threshold": 0.5})
    locs = {tuple(e["loc"]) for e in caught.value.errors()}
    assert locs == {("rules", 0, "keywords"), ("rules", 1, "reply"), ("rules", 2, "reply_in")}
    with pytest.raises(ValidationError) as caught:
        AutoreplySettings.model_validate({"faq_threshold": 0.3, "faq_suggest_threshold": 0.5})
    assert [e["loc"] for e in caught.value.errors()] == [("faq_suggest_threshold",)]


async def test_a_catastrophic_regex_does_not_hang_the_pipeline(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[rule([r"(a+)+$"], "boom", match="regex"),
                                    rule(["hello"], "hi")])
    started = time.perf_counter()
    await rt.pipeline.ingest(org, [f.message("u1", "a" * 5000 + "!"),
                                   f.message("u1", "hello")])
    elapsed = time.perf_counter() - started
    assert [t for _, _, t in await sent(rt)] == ["hi"]
    print(f"catastrophic regex message handled in {elapsed:.3f}s")  # never asserted on


def test_rules_compile_once_per_settings_object() -> None:
    settings = AutoreplySettings.model_validate({"enabled": True, "rules": [HOURS]})
    same = AutoreplySettings.model_validate({"enabled": True, "rules": [HOURS]})
    assert compiled_rules(settings) is compiled_rules(settings)
    assert compiled_rules(same) is compiled_rules(settings)  # same rules: shared


async def test_replay_gives_the_same_replies(rt: Runtime, org: int) -> None:
    await configure(rt, org, rules=[HOURS])
    events = [f.message("u1", "营业时间", minutes=m) for m in (0, 0.2, 0.7, 0.8)]
    await rt.pipeline.ingest(org, events[:2])
    await rt.pipeline.ingest(org, events[2:])
    await rt.pipeline.ingest(org, events)  # duplicates: nothing new
    assert len(await sent(rt)) == 2


def test_the_contract_example_is_valid_as_written() -> None:
    import tomllib
    from pathlib import Path

    from qunyun.core.errors import ErrorCollector
    from qunyun.pipeline.playbook.sections import validate_layer

    path = Path(__file__).parents[2] / "fixtures" / "playbooks" / "contract_example.toml"
    table = tomllib.loads(path.read_text(encoding="utf-8"))["features"]["autoreply"]
    errors = ErrorCollector()
    stored = validate_layer(AutoreplySettings, table, "features.autoreply", errors)
    assert not errors and stored is not None
    [only] = AutoreplySettings.model_validate(stored).rules
    assert (only.keywords, only.match, only.reply_in, only.cooldown_seconds) == (
        ["营业时间"], "contains", "group", 30)


def test_usage_lists_keywords_and_the_faq() -> None:
    from qunyun.features.autoreply.plugin import usage

    settings = AutoreplySettings.model_validate({"rules": [
        HOURS, rule([r"\d+"], "x", match="regex"), rule(["地址"], "y", priority=2)]})
    lines = usage(settings, "en")
    assert lines[0] == "Send a keyword for a ready answer: 地址、营业时间、几点开门"
    assert "FAQ" in lines[1]
    assert usage(AutoreplySettings(faq=False), "en") == []
