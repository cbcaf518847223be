"""Tables of the points ledger. Entries are append-only; the balance row is kept in step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime


class PointsEntry(Base):
    """One change of a person's points in a community; never updated, never deleted."""

    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key"),
        Index("ix_points_entries_community_id_person_id_created_at",
              "community_id", "person_id", "created_at"),
        Index("ix_points_entries_community_id_created_at", "community_id", "created_at"),
        Index("ix_points_entries_group_id_created_at", "group_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    # The group it was earned or spent in (leaderboards per group); None for staff changes.
    group_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    amount: Mapped[int] = mapped_column(Integer)
    # A short code: signin, message, spend, adjust, …
    reason: Mapped[str] = mapped_column(String(32))
    # The event that caused it, as `platform:id`; None for manual adjustments.
    source_event: Mapped[str | None] = mapped_column(String(300), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who made a manual adjustment (a staff account), and why.
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class PointsBalance(Base):
    """The sum of a person's entries in a community, so the balance is one read."""

    __tablename__ = "points_balances"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("lifetime_earned >= 0", name="lifetime_earned_not_negative"),
    )

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    # The sum of every positive entry: levels read it, spending never lowers it.
    lifetime_earned: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
