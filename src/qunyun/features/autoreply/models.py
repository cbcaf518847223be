"""Tables of `autoreply`: the FAQ knowledge base of each community, the questions it could not
answer, and when each rule last replied in each group (cooldowns)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime


class FaqBook(Base):
    """One community's knowledge base: its revision moves on every edit, so the search index
    each process keeps knows when to rebuild."""

    __tablename__ = "autoreply_faq_books"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    revision: Mapped[int] = mapped_column(Integer, default=0)


class FaqEntry(Base):
    """A question with its other phrasings and the answer. Never deleted: disabled instead."""

    __tablename__ = "autoreply_faq_entries"
    __table_args__ = (Index("ix_autoreply_faq_entries_community_id_id", "community_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    question: Mapped[str] = mapped_column(String(200))
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(120))


class UnansweredQuestion(Base):
    """A question the FAQ had no answer for; similar repeats (same words) are counted here."""

    __tablename__ = "autoreply_unanswered"
    __table_args__ = (
        Index("uq_autoreply_unanswered_community_id_signature", "community_id", "signature",
              unique=True),
        Index("ix_autoreply_unanswered_community_id_resolved_count", "community_id",
              "resolved", "count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    signature: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(String(200))  # the latest wording
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))  # where it was last asked
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
    # Answered by an entry added for it, or dismissed by staff; a new repeat reopens it.
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class RuleCooldown(Base):
    """When a rule last replied in a group (and, for private replies, to whom): event time."""

    __tablename__ = "autoreply_cooldowns"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    member: Mapped[str] = mapped_column(String(200), primary_key=True)  # "" for group replies
    last_reply_at: Mapped[datetime] = mapped_column(UTCDateTime)
