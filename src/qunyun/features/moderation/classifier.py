"""A learning spam classifier: naive Bayes over jieba tokens plus feature tokens.

`message_features` turns a message into tokens: its words (jieba, on the folded text: lower
case, simplified, full-width folded), long digit runs as `__digits:N__`, and feature tokens
for what the rules see: `__link__`, `__contact__` and `__contact:<kind>__`, `__adword__`
(a word of the built-in ad or contact list), `__newcomer__`, `__len:<bucket>__`.

`SpamClassifier` is a multinomial naive Bayes over the set of a message's tokens (each token
counted once per message), with add-one smoothing. It is pure data: `learn`/`unlearn` adjust
counts (a staff decision, or its reversal), `score` gives P(spam), `to_json`/`from_json` store
it (the moderation feature keeps one per organization). The vocabulary is capped: past
`MAX_VOCABULARY` tokens the rarest are forgotten.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import jieba

from qunyun.core.errors import ErrorCollector, InvalidInput
from qunyun.core.i18n import N_
from qunyun.core.words import load_segmenter
from qunyun.features.moderation.matcher import WordMatcher
from qunyun.features.moderation.normalize import fold, normalize
from qunyun.features.moderation.patterns import find_contacts, find_links
from qunyun.features.moderation.wordlist import builtin_lists

FORMAT_VERSION = 1
MIN_EXAMPLES = 5  # of each class before the classifier is used
MAX_VOCABULARY = 50_000
MAX_TOKEN_CHARS = 40
LENGTH_BUCKETS = ((10, "short"), (30, "medium"), (80, "long"))
_DIGITS = re.compile(r"\d{5,}")
_WORDLIKE = re.compile(r"\w", re.UNICODE)


@cache
def _ad_words() -> WordMatcher:
    lists = builtin_lists()
    return WordMatcher([*lists["ads"], *lists["contact"]])


def message_features(text: str, *, newcomer: bool, urls: Sequence[str] = ()) -> list[str]:
    """The tokens the classifier learns from (words first, then feature tokens)."""
    load_segmenter()
    features: list[str] = []
    for word in jieba.lcut(fold(text), HMM=False):
        word = word.strip()
        if not word or not _WORDLIKE.search(word) or len(word) > MAX_TOKEN_CHARS:
            continue
        features.append(f"__digits:{len(word)}__" if _DIGITS.fullmatch(word) else word)
    normalized = normalize(text)
    if find_links(normalized, urls):
        features.append("__link__")
    kinds = sorted({hit.category for hit in find_contacts(normalized)})
    if kinds:
        features.append("__contact__")
        features.extend(f"__contact:{kind}__" for kind in kinds)
    if _ad_words().first(normalized) is not None:
        features.append("__adword__")
    if newcomer:
        features.append("__newcomer__")
    features.append(f"__len:{_length_bucket(len(text.strip()))}__")
    return features


def _length_bucket(length: int) -> str:
    for limit, name in LENGTH_BUCKETS:
        if length < limit:
            return name
    return "huge"


class SpamClassifier:
    """Naive Bayes, spam vs ham, learned from examples; see the module docstring."""

    __slots__ = ("_vocabulary", "docs", "tokens", "totals")

    def __init__(self) -> None:
        self.docs = {True: 0, False: 0}  # examples learned, by spam
        self.tokens: dict[bool, dict[str, int]] = {True: {}, False: {}}
        self.totals = {True: 0, False: 0}  # sum of `tokens` counts, by spam
        self._vocabulary: int | None = None  # distinct tokens of both classes, when known

    @property
    def trained(self) -> bool:
        """Enough examples of both classes to be used."""
        return self.docs[True] >= MIN_EXAMPLES and self.docs[False] >= MIN_EXAMPLES

    def learn(self, features: Sequence[str], *, spam: bool) -> None:
        counts = self.tokens[spam]
        unique = set(features)
        for token in unique:
            counts[token] = counts.get(token, 0) + 1
        self.docs[spam] += 1
        self.totals[spam] += len(unique)
        self._vocabulary = None
        if len(counts) > MAX_VOCABULARY:
            self._forget_rarest(spam)

    def unlearn(self, features: Sequence[str], *, spam: bool) -> None:
        """Take back an example learned earlier (a decision reversed)."""
        if self.docs[spam] == 0:
            return
        counts = self.tokens[spam]
        for token in set(features):
            known = counts.get(token, 0)
            if known > 1:
                counts[token] = known - 1
            elif known == 1:
                del counts[token]
            self.totals[spam] -= min(known, 1)
        self.docs[spam] -= 1
        self._vocabulary = None

    def score(self, features: Sequence[str]) -> float:
        """P(spam | features) in [0, 1]; 0.5 when nothing was learned."""
        spam_docs, ham_docs = self.docs[True], self.docs[False]
        if spam_docs == 0 or ham_docs == 0:
            return 0.5
        log_odds = math.log(spam_docs / ham_docs)
        if self._vocabulary is None:
            self._vocabulary = len(self.tokens[True].keys() | self.tokens[False].keys())
        vocabulary = self._vocabulary + 1
        spam_total, ham_total = self.totals[True], self.totals[False]
        for token in set(features):
            spam_count = self.tokens[True].get(token, 0)
            ham_count = self.tokens[False].get(token, 0)
            if spam_count == 0 and ham_count == 0:
                continue  # never seen: says nothing
            log_odds += math.log((spam_count + 1) / (spam_total + vocabulary))
            log_odds -= math.log((ham_count + 1) / (ham_total + vocabulary))
        return _sigmoid(log_odds)

    def to_json(self) -> dict[str, Any]:
        return {"version": FORMAT_VERSION, "spam_docs": self.docs[True],
                "ham_docs": self.docs[False], "spam": dict(self.tokens[True]),
                "ham": dict(self.tokens[False])}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SpamClassifier:
        """Rebuild from `to_json`'s form; InvalidInput naming the bad part otherwise."""
        errors = ErrorCollector()
        if data.get("version") != FORMAT_VERSION:
            errors.add("version", N_("unknown classifier format {version}"),
                       version=str(data.get("version")))
        model = cls()
        for spam, docs_key, tokens_key in ((True, "spam_docs", "spam"),
                                           (False, "ham_docs", "ham")):
            docs, tokens = data.get(docs_key), data.get(tokens_key)
            if not _is_count(docs):
                errors.add(docs_key, N_("expected a count (a whole number, 0 or more)"))
            if not isinstance(tokens, dict) or not all(
                    isinstance(k, str) and _is_count(v) for k, v in tokens.items()):
                errors.add(tokens_key, N_("expected token counts"))
            if not errors and isinstance(docs, int) and isinstance(tokens, dict):
                model.docs[spam] = docs
                model.tokens[spam] = {k: v for k, v in tokens.items() if v > 0}
                model.totals[spam] = sum(model.tokens[spam].values())
        if errors:
            raise InvalidInput(N_("The stored spam classifier is damaged."),
                               errors=errors.errors)
        return model

    def _forget_rarest(self, spam: bool) -> None:
        counts = self.tokens[spam]
        keep = sorted(counts.items(), key=lambda item: item[1], reverse=True)
        counts.clear()
        counts.update(keep[: MAX_VOCABULARY * 9 // 10])
        self.totals[spam] = sum(counts.values())


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _sigmoid(log_odds: float) -> float:
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)


def evaluate(
    predictions: Iterable[tuple[bool, bool]],
) -> dict[str, float | int]:
    """Precision, recall and F1 of (predicted spam, actually spam) pairs."""
    tp = fp = fn = tn = 0
    for predicted, actual in predictions:
        if predicted and actual:
            tp += 1
        elif predicted:
            fp += 1
        elif actual:
            fn += 1
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1,
            "true_positives": tp, "false_positives": fp, "false_negatives": fn,
            "true_negatives": tn}
