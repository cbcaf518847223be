"""Normalization: every disguise the issue lists, and the way back to the original text."""

from __future__ import annotations

import pytest

from qunyun.features.moderation.normalize import (
    Normalized,
    normalize,
    normalize_char,
    origin_by_character,
)
from tests.conftest import shared_data


@pytest.mark.parametrize(("text", "expected"), [
    ("ＡＢＣ１２３", "abc123"),  # full-width -> half-width
    ("WeChat", "wechat"),  # case
    ("五星紅旗", "五星红旗"),  # traditional -> simplified
    ("發財", "发财"),
    ("微 信", "微信"),  # spaces between characters
    ("微.信", "微信"),
    ("微\u200b信", "微信"),  # zero-width space
    ("微❤信", "微信"),  # symbol
    ("微😀信", "微信"),  # emoji (outside the BMP)
    ("加@V", "加v"),
    ("<p>傻逼</p>", "p傻逼p"),
    ("①②③", "123"),  # enclosed digits
    ("Ⓕⓤc⒦", "fuck"),  # enclosed letters
    ("ⓥⓧ", "vx"),
    ("𝐕𝐗", "vx"),  # mathematical bold letters
    ("раураl", "paypal"),  # Cyrillic look-alikes
    ("café", "cafe"),  # accents
    ("一三八〇〇一三八〇〇〇", "13800138000"),  # Chinese numerals in a digit run
    ("壹叁捌零零壹叁捌零零零", "13800138000"),  # financial numerals
    ("幺三八", "幺三八"),  # too short to be a number
    ("1三8 oo1 3800 0", "13800138000"),  # mixed, o for 0 between digits
    ("13l0I2", "131012"),  # l and I for 1 between digits
    ("1l1I1", "1l1i1"),  # too few digits for a number
    ("9⓿二肆⁹₈③⑸⒋➃㈤㊄", "902498354455"),  # the peer library's obfuscated number
    ("一个人", "一个人"),  # numerals outside digit runs stay
    ("hello world", "helloworld"),
    ("good food", "goodfood"),  # o stays a letter outside digits
    ("", ""),
])
def test_normalizes(text: str, expected: str) -> None:
    assert normalize(text).text == expected


def test_origin_points_into_the_original() -> None:
    n = normalize("请加 微 信：ＡＢ")
    assert n.text == "请加微信ab"
    assert n.origin == (0, 1, 3, 5, 7, 8)
    start = n.text.index("微信")
    assert n.span(start, start + 2) == (3, 6)
    assert n.original[3:6] == "微 信"


def test_origin_of_characters_that_expand() -> None:
    n = normalize("ﬀ ½")  # ligature -> "ff", vulgar fraction -> "12"
    assert n.text == "ff12"
    assert n.origin == (0, 0, 2, 2)
    assert n.span(0, 2) == (0, 1)


def test_origin_length_matches_on_mixed_text() -> None:
    text = "İstanbul ＶＸ：ｗｘ_１２３ 五星紅旗 😀 ⒈⒉ ㈤ Ⅻ ß"
    n = normalize(text)
    assert len(n.origin) == len(n.text)
    assert all(0 <= i < len(text) for i in n.origin)
    assert list(n.origin) == sorted(n.origin)


def test_span_rejects_bad_ranges() -> None:
    n = normalize("abc")
    with pytest.raises(ValueError):
        n.span(2, 2)
    with pytest.raises(ValueError):
        n.span(0, 4)


def test_normalized_equality_and_char_helper() -> None:
    assert normalize("Ａ") == Normalized("Ａ", "a")
    assert normalize_char("紅") == "红"
    assert normalize_char("，") == ""


def test_spans_agree_with_the_full_origin_on_real_messages() -> None:
    """The quick way back (skipping runs of dropped characters) and the character by
    character origin give the same spans, on the SMS set (symbols, emoji, full-width...)."""
    path = shared_data("moderation", "chinese_sms_spam_10k", "sms_spam_zh_10k.tsv")
    texts = [line.partition("\t")[2] for line in path.read_text(encoding="utf-8").splitlines()]
    texts += ["ﬀ ½ 微 信", "😀 a b", "İ x"]
    for text in texts:
        quick, full = normalize(text), normalize(text)
        if not quick.text:
            continue
        origin = origin_by_character(text)
        assert full.origin == origin
        last = len(quick.text)
        for start, end in ((0, 1), (0, last), (last // 2, last), (last - 1, last)):
            if start < end:
                assert quick.span(start, end) == (origin[start], origin[end - 1] + 1)
