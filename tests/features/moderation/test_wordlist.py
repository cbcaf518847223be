"""Word lists: what loads cleanly, what fails, and with which line number."""

from __future__ import annotations

import pytest

from qunyun.core.errors import InvalidInput
from qunyun.features.moderation.wordlist import (
    MAX_WORD_CHARS,
    WordEntry,
    builtin_lists,
    parse_wordlist,
    parse_wordlist_lenient,
    words_as_entries,
)


def test_empty_lines_comments_spaces_and_bom_are_skipped() -> None:
    text = "\ufeff加微信\n\n   \n# a comment\n  刷单返利  \r\n"
    entries = parse_wordlist(text, category="ads", source="mine")
    assert entries == [
        WordEntry(word="加微信", raw="加微信", category="ads", source="mine"),
        WordEntry(word="刷单返利", raw="刷单返利", category="ads", source="mine"),
    ]


def test_duplicates_fold_by_normalized_form() -> None:
    entries = parse_wordlist("VX\nvx\nＶＸ\nv x\n發財\n发财", category="contact", source="s")
    assert [(e.word, e.raw) for e in entries] == [("vx", "VX"), ("发财", "發財")]


def test_odd_unicode_is_normalized() -> None:
    entries = parse_wordlist("微\u200b信\nⓥⓧ\nＱＱ群", category="contact", source="s")
    assert [e.word for e in entries] == ["微信", "vx", "qq群"]


def test_bad_lines_fail_with_their_line_numbers() -> None:
    text = "ok\n" + "长" * (MAX_WORD_CHARS + 1) + "\nfine\n!!!\n\n@ # $\n"
    with pytest.raises(InvalidInput) as caught:
        parse_wordlist(text, category="custom", source="list.txt")
    paths = [error.path for error in caught.value.errors]
    assert paths == ["list.txt:2", "list.txt:4", "list.txt:6"]
    assert "51 characters" in str(caught.value)


def test_lenient_parsing_keeps_the_good_entries() -> None:
    entries, errors = parse_wordlist_lenient("a\n???\nb", category="c", source="f")
    assert [e.word for e in entries] == ["a", "b"]
    assert [e.path for e in errors] == ["f:2"]


def test_an_entry_of_exactly_the_limit_loads() -> None:
    entries = parse_wordlist("字" * MAX_WORD_CHARS, category="c", source="f")
    assert len(entries[0].word) == MAX_WORD_CHARS


def test_words_from_settings_number_their_entries() -> None:
    assert [e.word for e in words_as_entries(["A", "b"], category="custom", source="s")] == [
        "a", "b"]
    with pytest.raises(InvalidInput) as caught:
        words_as_entries(["ok", "two\nlines"], category="custom", source="banned_words")
    assert [e.path for e in caught.value.errors] == ["banned_words:2"]


def test_builtin_lists_load_with_their_categories() -> None:
    lists = builtin_lists()
    assert set(lists) == {"ads", "contact", "abuse"}
    for category, entries in lists.items():
        assert len(entries) > 50
        assert {e.category for e in entries} == {category}
        assert {e.source for e in entries} == {f"builtin:{category}"}
    assert "刷单返利" in {e.word for e in lists["ads"]}
