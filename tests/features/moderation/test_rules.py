"""`rules.evaluate`, the one function the live handler and the dry run share: which rule a
message breaks, what matched on the original text, in which order the rules are tried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from qunyun.features.moderation.classifier import SpamClassifier, message_features
from qunyun.features.moderation.normalize import normalize
from qunyun.features.moderation.rules import (
    Finding,
    MessageFacts,
    compile_rules,
    evaluate,
    fingerprint,
    on_probation,
)
from qunyun.features.moderation.settings import ModerationSettings
from tests.conftest import START


def rules(**values: Any) -> Any:
    return compile_rules(ModerationSettings.model_validate({"enabled": True, **values}))


def check(text: str, ruleset: Any = None, **facts: Any) -> Finding | None:
    return evaluate(ruleset or rules(banned_words=["代开发票"]),
                    MessageFacts(normalize(text), **facts))


def test_ordinary_chat_passes() -> None:
    for text in ("大家早上好", "今天的分享很有收获，谢谢老师", "周六下午三点门店见", ""):
        assert check(text) is None


def test_banned_words_match_through_disguises_on_the_original_text() -> None:
    found = check("有需要代 開·發 票的吗")
    assert found is not None and found.rule == "banned_words"
    original = "有需要代 開·發 票的吗"
    assert found.text == "代 開·發 票" == original[found.start:found.end]


def test_word_lists_carry_their_category_and_builtin_lists_can_be_off() -> None:
    ruleset = rules(builtin_lists=[], word_lists={"政治": {"category": "politics",
                                                           "words": ["敏感话题"]}})
    found = check("聊聊敏感话题", ruleset)
    assert found is not None and (found.rule, found.category) == ("banned_words", "politics")
    assert check("代开发票", ruleset) is None  # neither built-in nor listed here


def test_contact_solicitation_by_kind() -> None:
    found = check("有事加我微信 abc_12345", rules(builtin_lists=[]))
    assert found is not None and found.rule == "contact"
    phone = check("电话 13812345678", rules(builtin_lists=[]))
    assert phone is not None and (phone.rule, phone.category) == ("contact", "phone")
    assert check("电话 13812345678",
                 rules(builtin_lists=[], contact={"kinds": ["wechat"]})) is None


def test_links_block_all_but_allowed_or_only_denied() -> None:
    block_all = rules(links={"enabled": True, "allow": ["qunyun.example"]})
    assert check("看 https://spam.example/x", block_all) is not None
    assert check("官网 https://www.qunyun.example/a", block_all) is None
    listed = rules(links={"enabled": True, "block": "listed", "deny": ["t.cn"]})
    found = check("戳 t.cn/abc 领券", listed)
    assert found is not None and (found.rule, found.text) == ("links", "t.cn/abc")
    assert check("看 https://spam.example/x", listed) is None


def test_mention_all_and_mass_mentions() -> None:
    assert check("@全体成员 快来抢") == \
        Finding("mention_all", "all", "@全体成员", 0, 5, "@全体成员")
    assert check("通知", mentions=("all",)) is not None
    many = tuple(f"u{i}" for i in range(11))
    found = check("看这里", mentions=many)
    assert found is not None and found.category == "mass"
    assert check("看这里", mentions=many[:10]) is None


def test_newcomers_may_not_post_links_or_media() -> None:
    found = check("看看 https://a.example/x", newcomer=True)
    assert found is not None and found.rule == "newcomer"
    assert check("", kind="image", newcomer=True) is not None
    assert check("", kind="image", newcomer=False) is None
    relaxed = rules(newcomer={"media": False})
    assert check("", relaxed, kind="image", newcomer=True) is None


def test_flooding_counts_come_from_the_caller() -> None:
    assert check("刷屏", recent_messages=8) is None
    flood = check("刷屏", recent_messages=9)
    assert flood is not None and flood.rule == "flood"
    found = check("一样的话", same_text_groups=3)
    assert found is not None and found.rule == "cross_group"
    assert check("一样的话", rules(flood={"enabled": False}), same_text_groups=9) is None


def test_regexes_report_their_name_and_span() -> None:
    ruleset = rules(builtin_lists=[], regexes=[{"name": "订单号", "pattern": r"DD\d{6}"}])
    found = check("我的单号 DD123456 求退款", ruleset)
    assert found is not None and (found.rule, found.category, found.text) == \
        ("regex", "订单号", "DD123456")


def test_exempt_roles_break_no_rule() -> None:
    assert check("代开发票", role="admin") is None
    assert check("代开发票", rules(banned_words=["代开发票"], exempt_roles=[]),
                 role="admin") is not None


def test_the_first_rule_in_order_wins() -> None:
    found = check("@全体成员 代开发票 加微信 abc12345")
    assert found is not None and found.rule == "mention_all"


def test_the_classifier_scores_from_its_threshold() -> None:
    model = SpamClassifier()
    spam = ["低价代开各类发票联系我", "兼职刷单日结工资加我", "特价香烟批发私聊"]
    ham = ["明天几点集合", "谢谢老师的分享", "今天天气真好", "周末一起去爬山"]
    for _ in range(5):
        for text in spam:
            model.learn(message_features(text, newcomer=False), spam=True)
        for text in ham:
            model.learn(message_features(text, newcomer=False), spam=False)
    on = rules(builtin_lists=[], contact={"enabled": False},
               classifier={"enabled": True, "threshold": 0.9})
    found = evaluate(on, MessageFacts(normalize("兼职刷单日结")), classifier=model)
    assert found is not None and found.rule == "classifier" and found.score is not None
    assert evaluate(on, MessageFacts(normalize("谢谢老师")), classifier=model) is None
    off = rules(builtin_lists=[], contact={"enabled": False})
    assert evaluate(off, MessageFacts(normalize("兼职刷单日结")), classifier=model) is None


def test_probation_and_fingerprints() -> None:
    settings = ModerationSettings(enabled=True)
    joined = START - timedelta(hours=2)
    assert on_probation(messages_before=10, joined_at=joined, now=START, settings=settings)
    assert on_probation(messages_before=1, joined_at=START - timedelta(days=9), now=START,
                        settings=settings)
    assert not on_probation(messages_before=10, joined_at=START - timedelta(days=9),
                            now=START, settings=settings)
    assert not on_probation(messages_before=0, joined_at=None, now=START, settings=settings,
                            known_before=True)
    assert fingerprint(normalize("好"), 8) == ""
    assert fingerprint(normalize("周末 一起去爬山吗?"), 8) == \
        fingerprint(normalize("周末一起去爬山吗？"), 8) != ""


@pytest.mark.parametrize("text", ["代开发票", "代 开 发 票", "代開發票", "ＤＡＩ代开发票"])
def test_disguised_variants_of_one_word(text: str) -> None:
    assert check(text) is not None
