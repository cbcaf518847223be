"""Moderation's record: one case per offending event.

A case says which rule caught which message of whom, what was done about it and what became of it
(undone by staff, overturned on appeal). Cases are never deleted; undoing one sets `status`.
The unique key (org, event) is what makes the same offending event punished once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime

# Case status: the action stands; staff undid it; an appeal overturned it.
APPLIED = "applied"
UNDONE = "undone"
OVERTURNED = "overturned"
CASE_STATUSES = (APPLIED, UNDONE, OVERTURNED)


class ModerationCase(Base):
    __tablename__ = "moderation_cases"
    __table_args__ = (
        UniqueConstraint("org_id", "event_id"),
        Index("ix_moderation_cases_group_id_at", "group_id", "at"),
        Index("ix_moderation_cases_person_id_at", "person_id", "at"),
        Index("ix_moderation_cases_org_id_rule", "org_id", "rule"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), nullable=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    # The offending event and the message it carried (empty for non-message offences).
    event_id: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    # The rule that caught it: "banned_words", "contact", "links", "flood", "cross_group",
    # "mention_all", "newcomer", "regex", "classifier", "blacklist" …; `category` refines it
    # (the word list category, the regex name).
    rule: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64), default="")
    # What was matched, on the original text: [{"start", "end", "text"}], plus rule specifics.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What was done: "delete", "warn", "mute:600", "kick", "block", or "flag" (review only);
    # several joined by "+" (e.g. "delete+warn").
    action: Mapped[str] = mapped_column(String(64))
    # The member's warning count after this case (for the ladder).
    warnings: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=APPLIED)
    # Who undid or overturned it and when ("staff:<id>" or "appeal:<id>").
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ModerationRecent(Base):
    """A member's recent message, kept a short while for the flood rules: how many messages in
    the last seconds, and the same text in how many groups. Rows older than the longest flood
    window are deleted as the member posts again."""

    __tablename__ = "moderation_recent"
    __table_args__ = (
        Index("ix_moderation_recent_person_id_at", "person_id", "at"),
        Index("ix_moderation_recent_org_id_at", "org_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A digest of the normalized text ("" for texts too short to count as the same text).
    fingerprint: Mapped[str] = mapped_column(String(40), default="")


class ModerationClassifier(Base):
    """An organization's spam classifier, trained by its staff's decisions (delete → spam;
    undo, appeal upheld → ham)."""

    __tablename__ = "moderation_classifiers"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    model: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    spam_examples: Mapped[int] = mapped_column(default=0)
    ham_examples: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ModerationGroupMode(Base):
    """Whether moderation has turned the platform's mute-all on in a group (all-mute mode or
    quiet hours), so it is switched once when the mode starts and once when it ends."""

    __tablename__ = "moderation_group_modes"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    muted: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(String(16), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
