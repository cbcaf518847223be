"""Settings of `gate` (playbook section `[features.gate]`).

- `mode`: who may enter — `open` (anyone), `invite` (the inviter must be a member in good
  standing), `code` (a valid invite code), `questionnaire` (answers, auto-approval rules, else the
  approval queue), `paid` (a `payment.completed` of `item` / at least `price_cents`).
- `numbering`: give every newcomer the community's next member number (编号), kept for life.
- `inviter_scope`: where the inviter must be an active member: this `group` or any group of the
  `community`; `inviter_clean_days`: the inviter must have no moderation case and no removal in
  the last N days (0: not checked).
- `questions`, `rules`, `on_rule_fail`: the questionnaire; each rule checks the answer to one
  question (`required`, any of `keywords`, a `regex`); all pass → approved; a failure goes to the
  queue (`review`) or is rejected at once (`reject`).
- `timeout_hours`, `on_timeout`: a request still pending after this long is rejected (`reject`)
  or left in the queue (`keep`); 0 never times out.
- `item`, `price_cents`, `currency`: what unlocks paid entry.
- `reply_private`: tell the applicant the outcome in a private message.
"""

from __future__ import annotations

from typing import Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from qunyun.core.errors import settings_error
from qunyun.core.features import FeatureSettings
from qunyun.core.i18n import N_

MODES = ("open", "invite", "code", "questionnaire", "paid")
MAX_QUESTION = 200
MAX_KEYWORD = 50
MAX_REGEX = 300


class AnswerRule(BaseModel):
    """One auto-approval rule on the answer to one question."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description=N_("The question (as written in `questions`)."))
    required: bool = Field(True, description=N_("The answer must not be empty."))
    keywords: list[str] = Field(default_factory=list, max_length=50, description=N_(
        "The answer must contain one of these words (any case); empty: no keyword needed."))
    regex: str = Field("", max_length=MAX_REGEX, description=N_(
        "The answer must match this regular expression; empty: no pattern."))

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        cleaned = [w.strip() for w in value]
        for word in cleaned:
            if not word or len(word) > MAX_KEYWORD:
                raise settings_error(N_("each keyword must have 1 to {limit} characters"),
                                     limit=MAX_KEYWORD)
        return cleaned

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            regex.compile(value)
        except regex.error as exc:
            raise settings_error(N_("invalid regular expression at position {position}: "
                                    "{problem}"), position=(exc.pos or 0) + 1,
                                 problem=exc.msg) from exc
        return value


class GateSettings(FeatureSettings):
    mode: Literal["open", "invite", "code", "questionnaire", "paid"] = Field(
        "open", description=N_("Who may enter: open, invite, code, questionnaire or paid."))
    numbering: bool = Field(False, description=N_(
        "Give each newcomer the community's next member number (编号), kept for life."))
    inviter_scope: Literal["group", "community"] = Field("group", description=N_(
        "Where an inviter must be an active member: this group or any group of the community."))
    inviter_clean_days: int = Field(30, ge=0, le=3650, description=N_(
        "An inviter must have no moderation case or removal in this many days (0: no check)."))
    questions: list[str] = Field(default_factory=list, max_length=10, description=N_(
        "The application questionnaire."))
    rules: list[AnswerRule] = Field(default_factory=list, max_length=20, description=N_(
        "Auto-approval rules on the answers; all must pass."))
    on_rule_fail: Literal["review", "reject"] = Field("review", description=N_(
        "When a rule fails: send the request to the approval queue, or reject it."))
    timeout_hours: int = Field(72, ge=0, le=24 * 90, description=N_(
        "Hours a request may stay pending (0: no limit)."))
    on_timeout: Literal["reject", "keep"] = Field("reject", description=N_(
        "What happens to a request still pending after the timeout."))
    item: str = Field("", max_length=200, description=N_(
        "Paid entry: the item a payment must name (empty: any item)."))
    price_cents: int = Field(0, ge=0, le=100_000_000, description=N_(
        "Paid entry: the least amount, in cents (分)."))
    currency: str = Field("CNY", min_length=3, max_length=8, description=N_(
        "Paid entry: the payment's currency."))
    reply_private: bool = Field(True, description=N_(
        "Tell applicants the outcome in a private message."))
    invite_link_keywords: list[str] = Field(
        default_factory=lambda: ["邀请链接", "invitelink"], max_length=10, description=N_(
            "Commands with which a member asks for a personal invite link (empty: none)."))

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: list[str]) -> list[str]:
        cleaned = [q.strip() for q in value]
        for question in cleaned:
            if not question or len(question) > MAX_QUESTION:
                raise settings_error(N_("each question must have 1 to {limit} characters"),
                                     limit=MAX_QUESTION)
        if len(set(cleaned)) != len(cleaned):
            raise settings_error(N_("questions must differ from each other"))
        return cleaned

    @field_validator("rules")
    @classmethod
    def _rules_name_questions(cls, value: list[AnswerRule],
                              info: ValidationInfo) -> list[AnswerRule]:
        questions = info.data.get("questions") or []
        for index, rule in enumerate(value):
            if rule.question not in questions:
                raise settings_error(N_("rule {index} names a question that is not in "
                                        "questions: {question}"), index=index + 1,
                                     question=rule.question)
        return value

    @field_validator("price_cents")
    @classmethod
    def _paid_needs_a_price(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("mode") == "paid" and value <= 0 and not info.data.get("item"):
            raise settings_error(N_("paid entry needs a price or an item"))
        return value
