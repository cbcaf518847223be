"""Challenges and their check-ins. A challenge is never deleted: staff archive it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime

ACTIVE = "active"
ARCHIVED = "archived"  # stopped by staff: no check-ins, no reminders; history kept
STATUSES = (ACTIVE, ARCHIVED)
PROOF_NONE = "none"
PROOF_TEXT = "text"  # the check-in must carry some words after the keyword
PROOF_IMAGE = "image"  # the check-in must be a picture (or reply to one's own picture)
PROOFS = (PROOF_NONE, PROOF_TEXT, PROOF_IMAGE)


class Challenge(Base):
    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint("end_day >= start_day", name="ends_after_start"),
        Index("ix_challenges_org_id_status_end_day", "org_id", "status", "end_day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(100))
    # The groups it runs in; empty: every group of the community.
    group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    start_day: Mapped[date] = mapped_column(Date)  # local days of the community, inclusive
    end_day: Mapped[date] = mapped_column(Date)
    keyword: Mapped[str] = mapped_column(String(32))
    proof: Mapped[str] = mapped_column(String(16), default=PROOF_NONE)
    reminder_hour: Mapped[int | None] = mapped_column(Integer, nullable=True)  # local, 0–23
    daily_points: Mapped[int] = mapped_column(Integer, default=0)
    completion_points: Mapped[int] = mapped_column(Integer, default=0)
    # Days of check-ins that complete it; None: every day of the challenge.
    required_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def days(self) -> int:
        return (self.end_day - self.start_day).days + 1

    @property
    def days_to_complete(self) -> int:
        return min(self.required_days or self.days, self.days)


class ChallengeCheckin(Base):
    """One person's check-in on one local day: at most one per day (the primary key)."""

    __tablename__ = "challenge_checkins"
    __table_args__ = (
        Index("ix_challenge_checkins_challenge_id_day", "challenge_id", "day"),
    )

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_event: Mapped[str | None] = mapped_column(String(300), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
