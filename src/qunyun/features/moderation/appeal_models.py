"""Appeals (申诉): a member asks, in private, to have a moderation case looked at again.

One open appeal per case (a partial unique index keeps it so under concurrency); a decided
appeal is final. Upholding an appeal overturns the case; rejecting it lets the case stand.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime
from qunyun.features.moderation.models import ModerationCase

OPEN = "open"
UPHELD = "upheld"  # the member was right: the case is overturned
REJECTED = "rejected"  # the case stands
APPEAL_STATUSES = (OPEN, UPHELD, REJECTED)
DECISIONS = (UPHELD, REJECTED)


class ModerationAppeal(Base):
    __tablename__ = "moderation_appeals"
    __table_args__ = (
        Index("ix_moderation_appeals_org_id_status_opened_at", "org_id", "status", "opened_at"),
        Index("ix_moderation_appeals_case_id", "case_id"),
        Index("uq_moderation_appeals_open_case", "case_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey(ModerationCase.id))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    # Where to answer: the platform and the member's id on it (the private chat).
    platform: Mapped[str] = mapped_column(String(32))
    member: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(200))  # the private message that opened it
    text: Mapped[str] = mapped_column(Text, default="")  # what the member wrote
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")  # the staff member's note to the member
