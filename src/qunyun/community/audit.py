"""The audit log: every change staff make, who made it, when, and the state before and after.

Entries are appended only; nothing in qunyun updates or deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.community.access import Principal
from qunyun.db.base import Base, BigId, UTCDateTime

JsonDoc = dict[str, Any] | None


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_org_id_id", "org_id", "id"),
        Index("ix_audit_entries_org_id_actor", "org_id", "actor"),
        Index("ix_audit_entries_org_id_target_type", "org_id", "target_type"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(120))  # "staff:alice", "token:ops", "cli"
    actor_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    action: Mapped[str] = mapped_column(String(64))  # "staff.create", "token.revoke", …
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[JsonDoc] = mapped_column(JSON, nullable=True)
    after: Mapped[JsonDoc] = mapped_column(JSON, nullable=True)


async def do_record(session: AsyncSession, *, principal: Principal, action: str,
                    target_type: str, target_id: str | int, before: JsonDoc, after: JsonDoc,
                    at: datetime) -> AuditEntry:
    """Append one entry in the caller's unit of work (it commits with the change it records)."""
    entry = AuditEntry(org_id=principal.org_id, at=at, actor=principal.actor,
                       actor_user_id=principal.user_id, action=action, target_type=target_type,
                       target_id=str(target_id), before=before, after=after)
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int


async def list_audit(session: AsyncSession, *, org_id: int, actor: str | None = None,
                     target_type: str | None = None, limit: int = 50,
                     offset: int = 0) -> AuditPage:
    """Entries newest first, filtered by actor and target type."""
    conditions = [AuditEntry.org_id == org_id]
    if actor:
        conditions.append(AuditEntry.actor == actor)
    if target_type:
        conditions.append(AuditEntry.target_type == target_type)
    total = await session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
    rows = await session.scalars(select(AuditEntry).where(*conditions)
                                 .order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return AuditPage(list(rows), int(total or 0))


async def audit_facets(session: AsyncSession, org_id: int) -> tuple[list[str], list[str]]:
    """The actors and target types present, for the filter menus."""
    actors = await session.scalars(select(AuditEntry.actor).where(AuditEntry.org_id == org_id)
                                   .distinct().order_by(AuditEntry.actor))
    types = await session.scalars(select(AuditEntry.target_type)
                                  .where(AuditEntry.org_id == org_id).distinct()
                                  .order_by(AuditEntry.target_type))
    return list(actors), list(types)
