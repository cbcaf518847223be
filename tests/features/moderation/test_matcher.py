"""Banned words: Aho-Corasick on the normalized text, hits reported on the original."""

from __future__ import annotations

import json

from qunyun.features.moderation.matcher import Hit, WordMatcher, _is_latin, matcher_for
from qunyun.features.moderation.normalize import normalize, origin_by_character
from qunyun.features.moderation.wordlist import WordEntry, parse_wordlist
from tests.conftest import shared_data


def matcher(words: str, category: str = "custom") -> WordMatcher:
    return WordMatcher(parse_wordlist(words, category=category, source="test"))


def spans(m: WordMatcher, text: str) -> list[str]:
    return [hit.text for hit in m.find(normalize(text))]


def test_hits_are_reported_on_the_original_text() -> None:
    m = matcher("加微信\n刷单返利", category="ads")
    text = "大家好，加 微 信 了解刷-单-返-利！"
    hits = m.find(normalize(text))
    assert hits == [
        Hit(rule="banned_words", category="ads", word="加微信", start=4, end=9, text="加 微 信"),
        Hit(rule="banned_words", category="ads", word="刷单返利", start=12, end=19,
            text="刷-单-返-利"),
    ]
    for hit in hits:
        assert text[hit.start:hit.end] == hit.text


def test_disguised_words_are_found() -> None:
    m = matcher("五星红旗\n傻逼\nfuck\nvx")
    assert spans(m, "我爱五星紅旗。") == ["五星紅旗"]
    assert spans(m, "<p>傻@逼</p>") == ["傻@逼"]
    assert spans(m, "Ⓕⓤc⒦ the bad words") == ["Ⓕⓤc⒦"]
    assert spans(m, "ｆｕｃｋ!") == ["ｆｕｃｋ"]
    assert spans(m, "加ⓥⓧ") == ["ⓥⓧ"]


def test_leftmost_longest_without_overlaps() -> None:
    m = matcher("微信\n加微信\n信用卡")
    assert spans(m, "加微信用卡") == ["加微信"]


def test_latin_words_need_a_boundary() -> None:
    m = matcher("sb\nsex")
    assert spans(m, "usb stick") == []
    assert spans(m, "Essex has ex") == []
    assert spans(m, "你sb吧") == ["sb"]
    assert spans(m, "s e x") == ["s e x"]
    assert spans(m, "sb123") == ["sb"]


def test_first_and_empty_matcher() -> None:
    m = matcher("a\nb")
    assert m.first(normalize("xx b a")) == Hit("banned_words", "custom", "b", 3, 4, "b")
    assert m.first(normalize("none here")) is None
    empty = WordMatcher([])
    assert empty.find(normalize("anything")) == []
    assert empty.first(normalize("")) is None


def test_the_first_entry_of_a_word_wins() -> None:
    entries = [WordEntry("x", "X", "ads", "one"), WordEntry("x", "x", "abuse", "two")]
    assert [h.category for h in WordMatcher(entries).find(normalize("x"))] == ["ads"]


def test_matchers_are_cached_by_content() -> None:
    entries = tuple(parse_wordlist("甲\n乙", category="c", source="s"))
    same = tuple(parse_wordlist("甲\n乙", category="c", source="s"))
    assert matcher_for(entries) is matcher_for(entries)
    assert matcher_for(same) is matcher_for(entries)
    other = tuple(parse_wordlist("丙", category="c", source="s"))
    assert matcher_for(other) is not matcher_for(entries)


def test_peer_library_cases() -> None:
    """The normalization cases of a mature DFA filter, with their words in our own list."""
    cases = json.loads(shared_data("moderation", "houbb_sensitive_word",
                                   "peer_test_cases.json").read_text(encoding="utf-8"))
    m = matcher("五星红旗\n毛主席\n天安门\nfuck\n傻冒\n狗东西\n傻逼")
    checked = 0
    for case in cases:
        expected = case.get("expected_findAll") or case.get(
            "expected_findAll_ignore_special_chars")
        if expected is None or case["config"].startswith(("enable", "ignoreRepeat")):
            continue
        assert spans(m, case["text"]) == expected, case["text"]
        checked += 1
    assert checked >= 5


def _reference_hits(m: WordMatcher, text: str) -> list[tuple[str, int, int]]:
    """Hits found the slow, obvious way: the full origin, and the original neighbours
    looked at for every Latin-edged word."""
    n = normalize(text)
    origin, found = origin_by_character(text), []
    for index, start, end in m._matches(n):
        word = m._entries[index].word
        first, last = origin[start], origin[end - 1] + 1
        if word[0].isascii() and word[0].isalpha() and first > 0 and _is_latin(text[first - 1]):
            continue
        if word[-1].isascii() and word[-1].isalpha() and last < len(text) and _is_latin(
                text[last]):
            continue
        found.append((m._entries[index].raw, first, last))
    return found


def test_quick_boundary_checks_agree_with_the_full_origin_on_real_chat() -> None:
    """The matcher skips looking at the original where the normalized neighbour shows it
    cannot be a letter; on real messages (English IRC, Chinese SMS) and disguised ones it
    finds exactly what the slow way does."""
    words = "is\nthis\nsb\nsex\nserver\nok\nvx\n加微信\n发票\n500\nwww\n8o8"
    m = matcher(words)
    sms = shared_data("moderation", "chinese_sms_spam_10k", "sms_spam_zh_10k.tsv")
    texts = [line.partition("\t")[2] for line in
             sms.read_text(encoding="utf-8").splitlines()[1:2001]]
    irc = sorted(shared_data("chat_datasets", "ubuntu_irc_disentanglement").glob("*/*.raw.txt"))
    texts += irc[0].read_text(encoding="utf-8", errors="replace").splitlines()[:2000]
    texts += ["ﬀis ½sb", "Ⓘs this", "th-is", "1o0ok", "okİ", "sb😀sb", "ＳＢ ｓｂx"]
    hits = 0
    for text in texts:
        expected = _reference_hits(m, text)
        assert [(h.word, h.start, h.end) for h in m.find(normalize(text))] == expected, text
        first = m.first(normalize(text))
        assert (first and (first.word, first.start, first.end)) == (
            expected[0] if expected else None)
        hits += len(expected)
    assert hits > 200
