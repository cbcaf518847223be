"""Banned words: an Aho-Corasick automaton over the normalized words, hits on the original.

All words are matched in one pass over the normalized text (ahocorasick-rs, leftmost-longest,
non-overlapping: a compiled automaton whose cost per character does not grow with the number
of distinct first characters; pyahocorasick scans a node's children one by one and measured
at under half the speed on Chinese text with 10,000 words).

A word that starts or ends with a Latin letter only matches where the ORIGINAL text has no
Latin letter right before or after the hit, so "sb" does not fire inside "usb", "sex" not
inside "Essex" nor in "has ex" (which reads "hasex" once spaces are dropped), while "s e x"
and "fuck the" do; Chinese words match anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

import ahocorasick_rs

from qunyun.features.moderation.normalize import Normalized, normalize_char
from qunyun.features.moderation.wordlist import WordEntry

MATCHER_CACHE_SIZE = 32


class Hit(NamedTuple):
    """A match (a tuple: cheap to make, since every banned word found makes one)."""

    rule: str  # "banned_words", "contact", "link", "regex"
    category: str
    word: str  # the list word / pattern that matched
    start: int  # on the ORIGINAL text
    end: int
    text: str  # original[start:end]


def _is_latin(char: str) -> bool:
    """Whether an original character reads as a Latin letter (A, ａ, Ⓐ ...)."""
    if char.isascii():
        return char.isalpha()
    folded = normalize_char(char)
    return bool(folded) and "a" <= folded[0] <= "z"


class WordMatcher:
    """Finds the entries' words in normalized text; the first entry of a word wins."""

    __slots__ = ("_automaton", "_entries", "_words")

    def __init__(self, entries: Iterable[WordEntry]) -> None:
        self._entries: list[WordEntry] = []
        seen: set[str] = set()
        for entry in entries:
            if entry.word and entry.word not in seen:
                seen.add(entry.word)
                self._entries.append(entry)
        # Per entry, what a hit needs: (category, raw, starts Latin, ends Latin).
        self._words = [(entry.category, entry.raw, "a" <= entry.word[0] <= "z",
                        "a" <= entry.word[-1] <= "z") for entry in self._entries]
        self._automaton: ahocorasick_rs.AhoCorasick | None = None
        if self._entries:
            self._automaton = ahocorasick_rs.AhoCorasick(
                [entry.word for entry in self._entries],
                matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, n: Normalized) -> list[Hit]:
        """All hits, leftmost-longest and non-overlapping, in text order."""
        matches = self._matches(n)
        if not matches:
            return []
        return [hit for match in matches if (hit := self._hit(n, match)) is not None]

    def first(self, n: Normalized) -> Hit | None:
        for match in self._matches(n):
            hit = self._hit(n, match)
            if hit is not None:
                return hit
        return None

    def _matches(self, n: Normalized) -> list[tuple[int, int, int]]:
        if self._automaton is None or not n.text:
            return []
        return self._automaton.find_matches_as_indexes(n.text)

    def _hit(self, n: Normalized, match: tuple[int, int, int]) -> Hit | None:
        """The match as a hit on the original, or None where a Latin word runs on.

        The original character next to the hit is looked at only where it may be a Latin
        letter, judged by the normalized neighbour: where every kept character gives one,
        a neighbour that is no Latin letter comes from none (dropped characters never are
        one; o, i and l read as digits only between digits, never next to a letter)."""
        entry_index, start, end = match
        category, raw, latin_start, latin_end = self._words[entry_index]
        text, original = n.text, n.original
        first = last = -1
        if latin_start and start > 0 and (
                "a" <= text[start - 1] <= "z" or not n.one_to_one):
            first = n.position(start)
            if first > 0 and _is_latin(original[first - 1]):
                return None
        if latin_end and end < len(text) and (
                "a" <= text[end] <= "z" or not n.one_to_one):
            last = n.position(end - 1) + 1
            if last < len(original) and _is_latin(original[last]):
                return None
        if first < 0 and last < 0:
            first, last = n.span(start, end)
        elif first < 0:
            first = n.position(start)
        elif last < 0:
            last = n.position(end - 1) + 1
        return Hit("banned_words", category, raw, first, last, original[first:last])


@lru_cache(maxsize=MATCHER_CACHE_SIZE)
def matcher_for(entries: tuple[WordEntry, ...]) -> WordMatcher:
    """A matcher for these entries, cached by content, so that reloading the same settings
    does not rebuild an automaton (10,000 words take ~0.1 s). Callers compile once per
    settings object (`rules.compile_rules`), so the content is hashed only then."""
    return WordMatcher(entries)
