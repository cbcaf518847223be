"""Tables of the award rules: each member's anti-farming memory, and who reacted to what."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime


class PointsMemory(Base):
    """The rules' memory of one person in one community (see `rules.MemberMemory`); read once
    per batch for the members it mentions, written back once."""

    __tablename__ = "points_memories"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    last_award_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    recent: Mapped[list[Any]] = mapped_column(JSON, default=list)
    day: Mapped[date | None] = mapped_column(Date, nullable=True)
    message_points: Mapped[int] = mapped_column(Integer, default=0)
    reaction_points: Mapped[int] = mapped_column(Integer, default=0)


class PointsReaction(Base):
    """A reactor's first reaction on a message: later ones earn the author nothing."""

    __tablename__ = "points_reactions"

    group_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    reactor_id: Mapped[int] = mapped_column(BigId, primary_key=True)


class PointsHeldInvite(Base):
    """An invite whose hold has not ended: released (awarded or lapsed, then removed) by the
    hourly job of its community. The ledger entry is the lasting record."""

    __tablename__ = "points_held_invites"
    __table_args__ = (Index("ix_points_held_invites_community_id_due_at",
                            "community_id", "due_at"),)

    membership_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(BigId)
    community_id: Mapped[int] = mapped_column(BigId)
    group_id: Mapped[int] = mapped_column(BigId)
    invitee_id: Mapped[int] = mapped_column(BigId)
    amount: Mapped[int] = mapped_column(Integer)
    source_event: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
