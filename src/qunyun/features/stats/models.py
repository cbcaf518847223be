"""Daily rollups per group: kept up to date as events arrive, never recomputed on read."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId


class DailyStats(Base):
    __tablename__ = "stats_daily"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # local day of the community
    joins: Mapped[int] = mapped_column(Integer, default=0)
    leaves: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    speakers: Mapped[int] = mapped_column(Integer, default=0)
    first_messages: Mapped[int] = mapped_column(Integer, default=0)


class DailySpeaker(Base):
    """Who spoke in a group on a day: the source of the distinct-speaker count."""

    __tablename__ = "stats_speakers"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
