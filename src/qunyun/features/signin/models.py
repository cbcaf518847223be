"""Tables of `signin`: one row per person, community and local day signed (or filled), the
per-group daily counter that gives ranks, and each person's make-up cards."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime

SIGNED = "signin"
FILLED = "makeup"


class SigninRecord(Base):
    """A day a person signed in to a community, or filled with a make-up card. Never deleted."""

    __tablename__ = "signin_records"
    __table_args__ = (
        UniqueConstraint("community_id", "person_id", "day"),
        Index("ix_signin_records_group_id_day", "group_id", "day"),
        Index("ix_signin_records_org_id_day", "org_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))  # where it was sent
    day: Mapped[date] = mapped_column(Date)  # local day of the community
    kind: Mapped[str] = mapped_column(String(16))  # SIGNED or FILLED
    # Place among the group's sign-ins of the day (1 = first); None for a filled day.
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Consecutive days ending on this day (kept up to date when a filled day joins two runs).
    streak: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0)  # awarded, streak bonus included
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_event: Mapped[str | None] = mapped_column(String(300), nullable=True)


class SigninDaily(Base):
    """How many signed in to a group on a day: read and incremented in one statement, so
    ranks have no gaps or repeats, on PostgreSQL under concurrency too."""

    __tablename__ = "signin_daily"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SigninCards(Base):
    """A person's make-up cards in a community."""

    __tablename__ = "signin_cards"
    __table_args__ = (CheckConstraint("held >= 0", name="held_not_negative"),)

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    held: Mapped[int] = mapped_column(Integer, default=0)
    bought: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
