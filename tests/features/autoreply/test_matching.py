"""The compiled matcher (one automaton, a screened set of regexes) answers as checking every
rule one by one in priority order would."""

from __future__ import annotations

import unicodedata

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from qunyun.core.commands import normalize
from qunyun.features.autoreply.matching import CompiledRules
from qunyun.features.autoreply.settings import REGEX_FLAGS, Rule

PATTERNS = [r"a\d+", r"(b)\1", r"(?P<x>c)(?P=x)", r"^ab", r"b$", r"(?i:A)B", r"(?x) a b",
            r"[ab]{3}"]
WORDS = ["a", "ab", "ba", "b1", "abc", "会员", "会"]
rules = st.builds(
    lambda kind, words, pats, priority: Rule(
        keywords=pats if kind == "regex" else words, match=kind, reply="r", priority=priority),
    st.sampled_from(["exact", "contains", "regex"]),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2),
    st.integers(0, 3))


def one_by_one(rules: list[Rule], text: str) -> Rule | None:
    for index in sorted(range(len(rules)), key=lambda i: (-rules[i].priority, i)):
        rule = rules[index]
        if rule.match == "exact" and normalize(text) in {normalize(k) for k in rule.keywords}:
            return rule
        if rule.match == "contains" and any(normalize(k) in normalize(text)
                                            for k in rule.keywords):
            return rule
        cleaned = unicodedata.normalize("NFKC", text).strip()
        if rule.match == "regex" and any(regex.search(k, cleaned, REGEX_FLAGS)
                                         for k in rule.keywords):
            return rule
    return None


@settings(max_examples=200, deadline=None)
@given(st.lists(rules, max_size=6), st.text(alphabet="ab1c会员 AB", max_size=8))
def test_compiled_rules_agree_with_checking_one_by_one(rule_set: list[Rule], text: str) -> None:
    assert CompiledRules(rule_set).match(text) is one_by_one(rule_set, text)
