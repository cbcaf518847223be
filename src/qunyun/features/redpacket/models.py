"""Red packets and their shares. Shares are cut when the packet is made; a claim fills in who
took one. Nothing is deleted: a packet ends finished (all claimed) or expired (rest refunded)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime

OPEN = "open"
FINISHED = "finished"  # every share claimed
EXPIRED = "expired"  # the unclaimed rest went back to the sender (or the community)
STATUSES = (OPEN, FINISHED, EXPIRED)


class RedPacket(Base):
    __tablename__ = "redpackets"
    __table_args__ = (
        CheckConstraint("count >= 1 AND total >= count", name="shares_of_at_least_one"),
        # The last guard against over-paying: never more claims than shares.
        CheckConstraint("claimed_count >= 0 AND claimed_count <= count",
                        name="claims_within_count"),
        Index("ix_redpackets_org_id_status", "org_id", "status"),
        Index("ix_redpackets_group_id_id", "group_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    # The member who paid for it; None for a packet staff sent, funded by the community.
    sender_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    staff_actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    total: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))  # random | equal
    # The 口令 members must send to claim; "" means the group's claim keywords (抢红包).
    keyword: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    claimed_count: Mapped[int] = mapped_column(Integer, default=0)
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    source_event: Mapped[str | None] = mapped_column(String(300), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RedPacketShare(Base):
    __tablename__ = "redpacket_shares"
    # One claim per person per packet, enforced by the database too.
    __table_args__ = (UniqueConstraint("packet_id", "person_id"),)

    packet_id: Mapped[int] = mapped_column(ForeignKey("redpackets.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1..count, claimed in order
    amount: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claim_event: Mapped[str | None] = mapped_column(String(300), nullable=True)
