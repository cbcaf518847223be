"""Answering questions from the FAQ by similarity: jieba tokens, BM25 and a confidence.

Which messages are questions (`is_question`): a message of 2–200 characters that ends with a
question mark (？ or ?), or contains a common question word (怎么, 如何, 吗, 几点, 多少, 哪里 …,
or how/what/when/where/why at the start), or mentions the bot (a platform id or `@name` from
`bot_names`).

Each phrasing of an entry (its question and every alternative) is a document. A query's score
against an entry is its best BM25 score over the entry's phrasings. The confidence divides that
score by the score the query would get against an ideal document of average length containing
each query term once; it is about the idf-weighted share of the question found in the entry, so
one threshold works whatever the size of the knowledge base. Words that say nothing (的, 了,
请问 …) are stop words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import jieba

from qunyun.core.commands import fold_width, normalize
from qunyun.core.words import load_segmenter

K1 = 1.5
B = 0.75
MIN_QUESTION, MAX_QUESTION = 2, 200
CHAR_MARK = "#"  # never starts a word token: punctuation is dropped
CHAR_WEIGHT = 0.4
_STOP_TEXT = """
的 了 吗 呢 啊 吧 呀 么 嘛 哦 哈 呗 是 我 我们 你 你们 您 他 她 它 这 那 这个 那个 请问 问 一下
怎么办 办 下 想 要 能 可以 会 就 都 也 还 和 与 及 或 在 有 个 怎么 如何 怎样 怎么样 什么 啥 谁
为什么 为啥 一个 得 地 着 过 给 对 让 把 被 从 到 有没有 是不是 能不能 可不可以 是否 没有
a an the is are do does i you we it to of in on for how what
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_STOP_CHARS = frozenset(c for word in STOP_WORDS for c in word if "\u4e00" <= c <= "\u9fff")
QUESTION_WORDS = re.compile(
    r"怎么|怎样|如何|吗|么\s*$|几点|几号|几天|多少|多久|多长|哪|什么|啥|为什么"
    r"|为啥|能不能|可不可以|是不是|有没有|是否|请问|求助|^(how|what|when|where|why|who|which|can i"
    r"|is there|do you)\b")


def tokens(text: str) -> list[str]:
    """A phrasing's index terms: jieba's words of two or more characters (lower case, no
    punctuation, no stop words), and every Chinese character (`CHAR_MARK` + character), so
    that 店 finds 门店 (jieba keeps 门店 whole)."""
    words, cleaned = _words(text)
    return [w for w in words if not _is_han(w)] + [
        CHAR_MARK + c for c in cleaned if _is_han(c) and c not in _STOP_CHARS]


def query_terms(text: str) -> dict[str, float]:
    """A question's terms with their weights: words 1, a one-character word 1 (as a character
    term), the characters inside longer words CHAR_WEIGHT."""
    return dict(_query_terms(text))


@lru_cache(maxsize=4096)  # members ask the same questions again and again
def _query_terms(text: str) -> dict[str, float]:
    words, _ = _words(text)
    terms: dict[str, float] = {}
    for word in words:
        if _is_han(word):
            terms[CHAR_MARK + word] = 1.0
            continue
        terms[word] = 1.0
        for c in word:
            if _is_han(c) and c not in _STOP_CHARS:
                terms.setdefault(CHAR_MARK + c, CHAR_WEIGHT)
    return terms


def _words(text: str) -> tuple[list[str], str]:
    load_segmenter()
    cleaned = fold_width(text).lower()
    words = [t for t in (w.strip() for w in jieba.cut_for_search(cleaned))
             if t and t not in STOP_WORDS and not _is_punctuation(t)]
    return words, cleaned


def _is_han(text: str) -> bool:
    """A single Chinese character."""
    return len(text) == 1 and "\u4e00" <= text <= "\u9fff"


def _is_punctuation(token: str) -> bool:
    return all(unicodedata.category(c)[0] in ("P", "S", "Z") for c in token)


def is_question(text: str, *, mentions: Iterable[str] = (),
                bot_names: Sequence[str] = ()) -> bool:
    cleaned = normalize(text)
    if not MIN_QUESTION <= len(cleaned) <= MAX_QUESTION:
        return False
    if any(name in mentions or f"@{name.lower()}" in cleaned for name in bot_names):
        return True
    return cleaned.endswith("?") or QUESTION_WORDS.search(cleaned) is not None


def signature(text: str, terms: dict[str, float] | None = None) -> str:
    """What similar repeats of an unanswered question share: its sorted distinct words, without
    the question words (停车场在哪 and 停车场在哪里 are one question). `terms`: the text's
    `query_terms`, when already known."""
    words = sorted(w for w in (terms if terms is not None else query_terms(text))
                   if not w.startswith(CHAR_MARK) and QUESTION_WORDS.search(w) is None)
    return " ".join(words)[:200] or normalize(text)[:200]


@dataclass(frozen=True, slots=True)
class Phrasing:
    entry_id: int
    text: str


@dataclass(frozen=True, slots=True)
class Hit:
    entry_id: int
    phrasing: str  # the phrasing that matched best
    confidence: float  # 0–1


@dataclass(slots=True)
class FaqIndex:
    """An inverted index of an FAQ's phrasings for BM25. Each posting holds the term's BM25
    weight in that document (tf and length already normalised), so a search only adds up."""

    docs: list[Phrasing] = field(default_factory=list)
    postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, phrasings: Iterable[Phrasing]) -> FaqIndex:
        index = cls(list(phrasings))
        counts = [Counter(tokens(p.text)) for p in index.docs]
        lengths = [sum(c.values()) for c in counts]
        average = max(1.0, sum(lengths) / len(lengths)) if lengths else 1.0
        for doc, terms in enumerate(counts):
            norm = K1 * (1 - B + B * lengths[doc] / average)
            for term, tf in terms.items():
                index.postings.setdefault(term, []).append((doc, tf * (K1 + 1) / (tf + norm)))
        n = len(index.docs)
        index.idf = {term: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5))
                     for term, p in index.postings.items()}
        return index

    def search(self, terms: dict[str, float]) -> Hit | None:
        """The best entry for a question's `query_terms`, with its confidence; None when no
        phrasing shares a term with it."""
        if not terms or not self.docs:
            return None
        unseen = math.log(1 + (len(self.docs) + 0.5) / 0.5)  # a term no phrasing has
        scores: dict[int, float] = {}
        ideal = 0.0
        for term, strength in terms.items():
            weight = self.idf.get(term, unseen) * strength
            ideal += weight  # tf 1 in a document of average length scores idf exactly
            for doc, value in self.postings.get(term, ()):
                scores[doc] = scores.get(doc, 0.0) + weight * value
        if not scores:
            return None
        best_doc = max(scores, key=lambda d: (scores[d], -d))
        phrasing = self.docs[best_doc]
        return Hit(phrasing.entry_id, phrasing.text, min(1.0, scores[best_doc] / ideal))
