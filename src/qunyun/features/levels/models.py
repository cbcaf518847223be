"""Tables of levels and badges. Counts are kept as events arrive, never recomputed on read."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime


class LevelMember(Base):
    """A person's level in a community, and their messages there (the 100-messages badge)."""

    __tablename__ = "levels_members"
    __table_args__ = (Index("ix_levels_members_community_id_level", "community_id", "level"),)

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    level: Mapped[int] = mapped_column(Integer, default=0)  # position on the ladder, 0 first
    # The highest level ever reached: coming back to it after a demotion is not congratulated.
    best_level: Mapped[int] = mapped_column(Integer, default=0)
    level_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)


class LevelActivity(Base):
    """Messages of a person in a community per local day: the activity basis of levels."""

    __tablename__ = "levels_activity"
    __table_args__ = (Index("ix_levels_activity_community_id_day", "community_id", "day"),)

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)


class LevelChange(Base):
    """One promotion or demotion, kept for the dashboard."""

    __tablename__ = "levels_changes"
    __table_args__ = (Index("ix_levels_changes_community_id_at", "community_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    group_id: Mapped[int | None] = mapped_column(BigId, nullable=True)  # where it happened
    from_level: Mapped[int] = mapped_column(Integer)
    to_level: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(64))  # the new level's name at the time
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class BadgeAward(Base):
    """A badge a person earned in a community: once, with the time."""

    __tablename__ = "levels_badges"
    __table_args__ = (Index("ix_levels_badges_community_id_awarded_at",
                            "community_id", "awarded_at"),)

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    badge: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    group_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    detail: Mapped[str] = mapped_column(String(64), default="")  # e.g. the month of top inviter
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LevelAnnouncement(Base):
    """A promotion or badge found before commit (when other features' points are written),
    announced at the next event of its group; kept with the time it was sent."""

    __tablename__ = "levels_announcements"
    __table_args__ = (Index("ix_levels_announcements_org_id_sent_at", "org_id", "sent_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    member: Mapped[str | None] = mapped_column(String(200), nullable=True)  # to mention
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))  # level or badge
    subject: Mapped[str] = mapped_column(String(64))  # the level's name or the badge id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
