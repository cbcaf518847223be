"""The application questionnaire: answers checked against the auto-approval rules.

Answers come as {question: answer}. A platform that carries a single free-text answer (a QQ join
request's 验证信息) sends it as `comment`; with one question, the comment answers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

from qunyun.core.i18n import N_
from qunyun.features.gate.settings import AnswerRule, GateSettings

MAX_ANSWER = 2000
# A pattern that backtracks catastrophically on some answer gives up after this long and the
# answer counts as not matching (the request goes to staff, it is never approved by accident).
REGEX_TIMEOUT_SECONDS = 0.05


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def matches(pattern: str, answer: str) -> bool:
    try:
        return _compiled(pattern).search(answer, timeout=REGEX_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        return False


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    question: str = ""  # the question whose answer failed
    reason: str = ""  # a message id


def collect_answers(settings: GateSettings, answers: Mapping[str, Any],
                    comment: str) -> dict[str, str]:
    """The answers to the configured questions (others are dropped), trimmed."""
    given = {str(k).strip(): str(v).strip()[:MAX_ANSWER] for k, v in answers.items()}
    if not given and comment.strip() and len(settings.questions) == 1:
        given = {settings.questions[0]: comment.strip()[:MAX_ANSWER]}
    return {q: given[q] for q in settings.questions if q in given}


def _check(rule: AnswerRule, answer: str) -> str | None:
    if not answer:
        return N_("the question was not answered") if rule.required else None
    folded = answer.casefold()
    if rule.keywords and not any(word.casefold() in folded for word in rule.keywords):
        return N_("the answer does not mention what we asked for")
    if rule.regex and not matches(rule.regex, answer[:MAX_ANSWER]):
        return N_("the answer does not have the expected form")
    return None


def evaluate(settings: GateSettings, answers: Mapping[str, str]) -> Verdict:
    """Passed if every rule holds; with no rules, nothing is approved automatically."""
    if not settings.rules:
        return Verdict(False, reason=N_("waiting for review"))
    for rule in settings.rules:
        problem = _check(rule, answers.get(rule.question, ""))
        if problem is not None:
            return Verdict(False, rule.question, problem)
    return Verdict(True)
