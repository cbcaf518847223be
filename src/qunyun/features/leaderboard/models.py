"""Messages per group, local day and person: the source of the messages leaderboard (points
and sign-ins come from the ledger)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId


class MessageCount(Base):
    __tablename__ = "leaderboard_messages"
    __table_args__ = (Index("ix_leaderboard_messages_community_id_day", "community_id", "day"),)

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # local day of the community
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"),
                                                     nullable=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
