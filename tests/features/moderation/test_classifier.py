"""The spam classifier: features, learning, unlearning, storage, and real data."""

from __future__ import annotations

import random

import pytest

from qunyun.core.errors import InvalidInput
from qunyun.features.moderation.classifier import (
    MIN_EXAMPLES,
    SpamClassifier,
    evaluate,
    message_features,
)
from tests.conftest import shared_data

SPAM = ["加微信领取免费福利，详情私聊", "兼职刷单日结，扫码进群", "低息贷款秒下款，电话13800138000",
        "澳门赌场注册送彩金 www.example.com", "高仿名表一比一复刻，vx: shop888"]
HAM = ["今天的分享会几点开始？", "谢谢老师，讲得很清楚", "明天一起去跑步吧",
       "这本书我看完了，推荐给大家", "周末有人去看展览吗"]


def trained() -> SpamClassifier:
    model = SpamClassifier()
    for text in SPAM:
        model.learn(message_features(text, newcomer=True), spam=True)
    for text in HAM:
        model.learn(message_features(text, newcomer=False), spam=False)
    return model


def test_features_include_words_and_feature_tokens() -> None:
    features = message_features("加 微 信：ＡＢＣ123456，看 https://x.cn/a", newcomer=True,
                                urls=["https://y.com"])
    assert "abc123456" in features
    assert {"__link__", "__contact__", "__contact:wechat__", "__adword__",
            "__newcomer__", "__len:long__"} <= set(features)
    plain = message_features("谢谢老师", newcomer=False)
    assert "老师" in plain and "__len:short__" in plain
    assert not any(f in plain for f in ("__link__", "__contact__", "__newcomer__"))
    assert "__digits:11__" in message_features("13800138000", newcomer=False)


def test_untrained_is_neutral() -> None:
    model = SpamClassifier()
    assert not model.trained
    assert model.score(["anything"]) == 0.5


def test_learns_spam_and_ham() -> None:
    model = trained()
    assert model.trained
    assert model.score(message_features("加微信领福利，私聊我", newcomer=True)) > 0.9
    assert model.score(message_features("老师讲得很清楚，谢谢", newcomer=False)) < 0.1
    assert model.score(["never-seen-token"]) == pytest.approx(0.5)


def test_unlearn_reverses_a_decision() -> None:
    model = trained()
    features = message_features("周末团购水果，大家接龙", newcomer=False)
    before = model.score(features)
    snapshot = model.to_json()
    model.learn(features, spam=True)
    assert model.score(features) > before
    model.unlearn(features, spam=True)
    assert model.to_json() == snapshot
    assert model.score(features) == pytest.approx(before)


def test_unlearning_what_was_never_learned_changes_nothing_harmful() -> None:
    model = SpamClassifier()
    model.unlearn(["x"], spam=True)
    assert model.to_json()["spam_docs"] == 0
    model.learn(["x"], spam=False)
    model.unlearn(["x", "y"], spam=False)
    assert model.to_json() == SpamClassifier().to_json()


def test_round_trips_through_json() -> None:
    model = trained()
    copy = SpamClassifier.from_json(model.to_json())
    features = message_features("扫码进群领红包", newcomer=True)
    assert copy.score(features) == model.score(features)
    assert copy.to_json() == model.to_json()
    assert copy.trained


@pytest.mark.parametrize(("data", "path"), [
    ({"version": 99, "spam_docs": 0, "ham_docs": 0, "spam": {}, "ham": {}}, "version"),
    ({"version": 1, "spam_docs": -1, "ham_docs": 0, "spam": {}, "ham": {}}, "spam_docs"),
    ({"version": 1, "spam_docs": 1, "ham_docs": 0, "spam": {"a": "x"}, "ham": {}}, "spam"),
    ({"version": 1, "spam_docs": 1, "ham_docs": 0, "spam": {}}, "ham"),
])
def test_damaged_data_is_refused(data: dict[str, object], path: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        SpamClassifier.from_json(data)
    assert path in [error.path for error in caught.value.errors]


def test_needs_examples_of_both_classes() -> None:
    model = SpamClassifier()
    for i in range(MIN_EXAMPLES):
        model.learn([f"s{i}"], spam=True)
    assert not model.trained
    for i in range(MIN_EXAMPLES):
        model.learn([f"h{i}"], spam=False)
    assert model.trained


def test_beats_chance_on_real_sms() -> None:
    path = shared_data("moderation", "chinese_sms_spam_10k", "sms_spam_zh_10k.tsv")
    rows = [line.split("\t", 1) for line in
            path.read_text(encoding="utf-8").splitlines()[1:3001]]
    random.Random(5).shuffle(rows)
    data = [(message_features(text, newcomer=False), label == "1") for label, text in rows]
    cut = len(data) * 7 // 10
    model = SpamClassifier()
    for features, spam in data[:cut]:
        model.learn(features, spam=spam)
    figures = evaluate((model.score(f) >= 0.5, spam) for f, spam in data[cut:])
    spam_share = sum(spam for _, spam in data[cut:]) / len(data[cut:])
    assert figures["true_positives"] > 0
    assert figures["precision"] > 3 * spam_share  # chance precision is the spam share
    assert figures["recall"] > 0.5
