"""Settings of `autoreply`: keyword rules and the FAQ switches.

A playbook writes rules as `[[features.autoreply.rules]]` tables. `keywords`, `match` and `reply`
are fixed by the playbook contract; the other keys are ours. A regex that does not compile or a
reply naming an unknown variable is refused with its key path
(`features.autoreply.rules.2.keywords.0: …`), so nothing half-valid is ever applied.
"""

from __future__ import annotations

import hashlib
import string
from typing import Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from qunyun.core.errors import settings_error
from qunyun.core.features import FeatureSettings
from qunyun.core.i18n import N_

# Variables a reply may use; the handler fills them in.
REPLY_VARIABLES = ("name", "group", "date", "time")
MAX_RULES = 1000
REGEX_FLAGS = regex.IGNORECASE


class Rule(BaseModel):
    """One keyword rule. Any of its keywords triggers it (any-of)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("", max_length=100)  # a label for the dashboard (optional)
    keywords: list[str] = Field(min_length=1, max_length=50)
    match: Literal["exact", "contains", "regex"] = "contains"
    reply: str = Field(min_length=1, max_length=2000)
    priority: int = 0  # higher wins when several rules match
    cooldown_seconds: int = Field(30, ge=0, le=86_400)
    reply_in: Literal["group", "private"] = "group"

    @model_validator(mode="after")
    def _check(self) -> Rule:
        problems: list[InitErrorDetails] = []
        for index, keyword in enumerate(self.keywords):
            reason = _keyword_problem(keyword, self.match)
            if reason is not None:
                problems.append(_problem(("keywords", index), keyword, *reason))
        reason = _reply_problem(self.reply)
        if reason is not None:
            problems.append(_problem(("reply",), self.reply, *reason))
        if problems:
            raise ValidationError.from_exception_data("Rule", problems)
        return self

    @property
    def key(self) -> str:
        """What cooldowns are kept under: the name (rules of one name share a cooldown), or a
        digest of the match and keywords (editing the reply text keeps the cooldown running)."""
        if self.name:
            return f"name:{self.name}"
        digest = hashlib.sha1("\x1f".join([self.match, *self.keywords]).encode()).hexdigest()
        return f"{self.match}:{digest[:20]}"


class AutoreplySettings(FeatureSettings):
    enabled: bool = False
    rules: list[Rule] = Field(default_factory=list, max_length=MAX_RULES, description=N_(
        "Keyword rules: keywords, match (exact, contains or regex), reply; optional name, "
        "priority, cooldown_seconds and reply_in (group or private). Replies may use {name}, "
        "{group}, {date} and {time}."))
    faq: bool = Field(True, description=N_("Answer questions from the community's FAQ."))
    faq_threshold: float = Field(0.6, gt=0, le=1, description=N_(
        "Confidence (0–1) from which the FAQ's answer is given."))
    faq_suggest_threshold: float = Field(0.35, gt=0, le=1, description=N_(
        "Confidence from which a “did you mean …?” reply is given instead."))
    faq_reply_in: Literal["group", "private"] = Field("group", description=N_(
        "Where FAQ answers go: the group, or a private chat with the asker."))
    bot_names: list[str] = Field(default_factory=list, max_length=20, description=N_(
        "The bot's names or platform ids: a message mentioning one counts as a question."))

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> AutoreplySettings:
        if self.faq_suggest_threshold > self.faq_threshold:
            raise ValidationError.from_exception_data("AutoreplySettings", [_problem(
                ("faq_suggest_threshold",), self.faq_suggest_threshold,
                N_("must not be above faq_threshold ({limit})"),
                {"limit": self.faq_threshold})])
        return self


def _problem(loc: tuple[str | int, ...], value: object, reason: str,
             params: dict[str, object]) -> InitErrorDetails:
    return InitErrorDetails(type=settings_error(reason, **params), loc=loc, input=value)


def _keyword_problem(keyword: str, match: str) -> tuple[str, dict[str, object]] | None:
    if not keyword.strip():
        return N_("must not be empty"), {}
    if len(keyword) > 200:
        return N_("must have at most {limit} items or characters"), {"limit": 200}
    if match != "regex":
        return None
    try:
        regex.compile(keyword, REGEX_FLAGS)
    except regex.error as exc:
        return N_("not a valid regular expression: {problem}"), {"problem": str(exc)}
    return None


def _reply_problem(reply: str) -> tuple[str, dict[str, object]] | None:
    try:
        fields = [(name, spec, conversion)
                  for _, name, spec, conversion in string.Formatter().parse(reply)
                  if name is not None]
    except ValueError:
        return N_("unbalanced braces: write {{ and }} for literal braces"), {}
    for name, spec, conversion in fields:
        if name not in REPLY_VARIABLES or spec or conversion:
            return N_("unknown variable {variable}; use {variables}"), {
                "variable": "{" + name + "}",
                "variables": ", ".join("{" + v + "}" for v in REPLY_VARIABLES)}
    return None
