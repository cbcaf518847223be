"""The gate's records: every entry decision, invite codes, paid entitlements, member numbers.

Nothing is deleted. A join request is the record of one decision: it starts `pending` (waiting
for staff or a payment) or is decided at once, and ends `approved`, `rejected` or `expired`
(the timeout). Member numbers (编号) are per community: a counter row hands out the next one,
and a person keeps theirs for life, so a number is never given twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
EXPIRED = "expired"
STATUSES = (PENDING, APPROVED, REJECTED, EXPIRED)

# Where a request came from: the platform asked (`member.join_requested`), or the member was
# already let in (`member.joined` without a request; the gate acts afterwards).
FROM_REQUEST = "request"
FROM_JOIN = "join"

# Why a request waits.
WAIT_REVIEW = "review"
WAIT_PAYMENT = "payment"


class JoinRequest(Base):
    __tablename__ = "gate_join_requests"
    __table_args__ = (
        UniqueConstraint("group_id", "request_id"),
        Index("ix_gate_join_requests_org_id_status_id", "org_id", "status", "id"),
        Index("ix_gate_join_requests_group_id_person_id", "group_id", "person_id"),
        Index("ix_gate_join_requests_person_id_status", "person_id", "status"),
        Index("ix_gate_join_requests_code_id", "code_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    member: Mapped[str] = mapped_column(String(200))  # the applicant's platform user id
    # The platform's request id; "join:<event id>" for a join the gate answers afterwards.
    request_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inviter: Mapped[str | None] = mapped_column(String(200), nullable=True)
    via: Mapped[str | None] = mapped_column(String(16), nullable=True)
    code: Mapped[str | None] = mapped_column(String(200), nullable=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("gate_invite_codes.id"),
                                                nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    waiting_for: Mapped[str] = mapped_column(String(16), default="")
    # Paid entry: what the request needs, as the settings said when it came.
    item: Mapped[str] = mapped_column(String(200), default="")
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(8), default="CNY")
    # Give the member a number when let in (the group's setting when the request came).
    numbering: Mapped[bool] = mapped_column(Boolean, default=False)
    # The rule that decided ("open", "blacklist", "inviter", "code", "answers", "payment",
    # "staff", "timeout" …), who decided ("gate", "staff:<login>", "payment:<order>",
    # "timeout") and why (a message id or the staff member's note).
    rule: Mapped[str] = mapped_column(String(32), default="")
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    event_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the approved applicant's join arrived (an approval is used by one join).
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class InviteCode(Base):
    __tablename__ = "gate_invite_codes"
    __table_args__ = (
        UniqueConstraint("org_id", "code"),
        CheckConstraint("uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)",
                        name="uses_within_limit"),
        Index("ix_gate_invite_codes_community_id", "community_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    code: Mapped[str] = mapped_column(String(64))
    # Who the newcomers are attributed to (their inviter), and a label for staff-owned codes.
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Entitlement(Base):
    """A payment that unlocks one paid entry; used by the request it let in."""

    __tablename__ = "gate_entitlements"
    __table_args__ = (
        UniqueConstraint("org_id", "platform", "order_id"),
        Index("ix_gate_entitlements_person_id_used_at", "person_id", "used_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    platform: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(200), default="")
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(8))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("gate_join_requests.id"),
                                                nullable=True)


class MemberNumber(Base):
    """A person's member number in a community (编号), given once and kept."""

    __tablename__ = "gate_member_numbers"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NumberCounter(Base):
    """The last member number a community gave."""

    __tablename__ = "gate_number_counters"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
