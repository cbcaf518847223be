"""Which rule a message triggers, cheaply.

The rule set is compiled once per settings object: every `exact` and `contains` keyword goes into
one Aho-Corasick automaton (one pass over the text finds them all), regexes are compiled and only
tried when they could beat the best keyword match (by priority, then by position in the list).
A regex is run with a time limit: one that takes longer simply does not match, and is logged.

The time limit costs a few microseconds per call, so all regexes are first screened by one
combined pattern (a branch reset `(?|a|b)`, so each keeps its own group numbers): only when it
matches (or runs out of time) are the rules' patterns tried one by one. A pattern with a global
inline flag such as `(?x)` would change the others, so it is left out of the screen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import ahocorasick
import regex
from pydantic import TypeAdapter

from qunyun.core.clock import zone
from qunyun.core.commands import fold_width, normalize
from qunyun.core.features import DerivedFromSettings
from qunyun.features.autoreply.settings import REGEX_FLAGS, AutoreplySettings, Rule

log = logging.getLogger(__name__)

REGEX_TIMEOUT = 0.05  # seconds per pattern and message
EXACT, CONTAINS = 1, 0


GLOBAL_FLAGS = regex.compile(r"\(\?[a-zA-Z^]+\)")


@dataclass(frozen=True, slots=True)
class _Regex:
    rank: int  # position in priority order: lower wins
    rule: int
    patterns: tuple[regex.Pattern[str], ...]
    screened: bool  # covered by the combined screen


def _screen(rules: list[_Regex]) -> regex.Pattern[str] | None:
    patterns = [p.pattern for r in rules if r.screened for p in r.patterns]
    if not patterns:
        return None
    try:
        return regex.compile("(?|" + "|".join(f"(?:{p})" for p in patterns) + ")", REGEX_FLAGS)
    except regex.error:
        return None


class CompiledRules:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        # Rank: higher priority first, then the order in the settings.
        order = sorted(range(len(rules)), key=lambda i: (-rules[i].priority, i))
        self._rank = {rule: rank for rank, rule in enumerate(order)}
        self._automaton: ahocorasick.Automaton | None = None
        keywords: dict[str, list[tuple[int, int]]] = {}
        regexes: list[_Regex] = []
        for index, rule in enumerate(rules):
            if rule.match == "regex":
                regexes.append(_Regex(self._rank[index], index, tuple(
                    regex.compile(k, REGEX_FLAGS) for k in rule.keywords),
                    not any(GLOBAL_FLAGS.search(k) for k in rule.keywords)))
                continue
            mode = EXACT if rule.match == "exact" else CONTAINS
            for keyword in {normalize(k) for k in rule.keywords}:
                keywords.setdefault(keyword, []).append((index, mode))
        if keywords:
            automaton = ahocorasick.Automaton()
            for keyword, targets in keywords.items():
                automaton.add_word(keyword, (len(keyword), tuple(targets)))
            automaton.make_automaton()
            self._automaton = automaton
        self._regexes = sorted(regexes, key=lambda r: r.rank)
        self._screen = _screen(self._regexes)

    def match(self, text: str) -> Rule | None:
        """The rule the message triggers, or None."""
        best = self._best_keyword(normalize(text))
        if self._regexes and (best is None or self._regexes[0].rank < self._rank[best]):
            cleaned = fold_width(text).strip()
            # False only when no screened pattern can match; None (timed out) means "maybe".
            maybe = self._screen is None or _search(self._screen, cleaned) is not False
            for candidate in self._regexes:
                if best is not None and candidate.rank >= self._rank[best]:
                    break
                if (maybe or not candidate.screened) and any(
                        _search(p, cleaned) for p in candidate.patterns):
                    best = candidate.rule
                    break
        return self.rules[best] if best is not None else None

    def _best_keyword(self, text: str) -> int | None:
        if self._automaton is None or not text:
            return None
        best: int | None = None
        last = len(text) - 1
        for end, (length, targets) in self._automaton.iter(text):
            whole = end == last and length == len(text)
            for rule, mode in targets:
                if mode == EXACT and not whole:
                    continue
                if best is None or self._rank[rule] < self._rank[best]:
                    best = rule
        return best


def _search(pattern: regex.Pattern[str], text: str) -> bool | None:
    """Whether the pattern is found; None when it ran out of time (treated as no match)."""
    try:
        return pattern.search(text, timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        log.warning("autoreply regex %r timed out on a message of %d characters; "
                    "treated as no match", pattern.pattern[:200], len(text))
        return None


_RULES = TypeAdapter(list[Rule])


@DerivedFromSettings
def compiled_rules(settings: AutoreplySettings) -> CompiledRules:
    """The settings' rules, compiled on first use and kept per settings object. Groups with
    the same rules share one compiled set."""
    return _compile(_RULES.dump_json(settings.rules).decode())


@lru_cache(maxsize=64)
def _compile(rules_json: str) -> CompiledRules:
    return CompiledRules(_RULES.validate_json(rules_json))


def render_reply(template: str, *, name: str, group: str, at: datetime, timezone: str) -> str:
    """Fill a reply's variables (validated in the settings, so none is unknown)."""
    local = at.astimezone(zone(timezone))
    return template.format(name=name, group=group, date=local.strftime("%Y-%m-%d"),
                           time=local.strftime("%H:%M"))
