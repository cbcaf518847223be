"""Highlights (群精华): messages staff or group admins marked as worth keeping.

A row is one marking period of a message. Unmarking closes it (`unmarked_at`) and keeps it as
history; marking again opens a new row. At most one open row per group and message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime


class Highlight(Base):
    __tablename__ = "highlights"
    __table_args__ = (
        Index("ix_highlights_group_id_marked_at", "group_id", "marked_at"),
        Index("uq_highlights_active", "group_id", "message_id", unique=True,
              sqlite_where=text("unmarked_at IS NULL"),
              postgresql_where=text("unmarked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    # The platform's message id, and a copy of the message as the event log keeps it, so the
    # digest reads one table.
    message_id: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(200))
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    author_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "member" (a group admin in the chat, see marked_by_person_id) or a staff actor.
    marked_by: Mapped[str] = mapped_column(String(200))
    marked_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"),
                                                            nullable=True)
    unmarked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unmarked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
