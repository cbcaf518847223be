"""Points of a member in a community: balance, entries, a staff adjustment (ACT, audited)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from qunyun.api.deps import ApiCaller, RuntimeDep, SessionDep
from qunyun.api.pagination import Page
from qunyun.community.access import VIEW
from qunyun.features.points.admin import (
    access_community,
    access_member,
    check_adjustment,
    do_staff_adjust,
)
from qunyun.points import service as ledger
from qunyun.points.models import PointsEntry

router = APIRouter(tags=["points"])


class BalanceOut(BaseModel):
    community_id: int
    person_id: int
    balance: int
    lifetime_earned: int


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    amount: int
    reason: str
    group_id: int | None
    source_event: str | None
    actor: str | None
    note: str
    created_at: datetime


class AdjustIn(BaseModel):
    amount: int = Field(description="Points to add; negative takes (never below zero).")
    note: str = Field(description="Why, for the audit log.")
    key: str | None = Field(None, max_length=100,
                            description="Idempotency key: the same key twice adjusts once.")


class AdjustOut(BaseModel):
    recorded: bool  # false: the key was used before
    balance: BalanceOut


async def _balance(session: SessionDep, community_id: int, person_id: int) -> BalanceOut:
    got = await ledger.balance(session, community_id=community_id, person_id=person_id)
    return BalanceOut(community_id=community_id, person_id=person_id, balance=got.balance,
                      lifetime_earned=got.lifetime_earned)


@router.get("/communities/{community_id}/points/{person_id}")
async def get_balance(community_id: int, person_id: int, caller: ApiCaller,
                      session: SessionDep) -> BalanceOut:
    caller.require(VIEW)
    await access_community(session, caller, community_id)
    await access_member(session, caller, person_id)
    return await _balance(session, community_id, person_id)


@router.get("/communities/{community_id}/points/{person_id}/entries")
async def list_entries(community_id: int, person_id: int, caller: ApiCaller,
                       session: SessionDep,
                       limit: Annotated[int, Query(ge=1, le=ledger.MAX_PAGE)] = 50,
                       offset: Annotated[int, Query(ge=0)] = 0) -> Page[EntryOut]:
    """Entries newest first."""
    caller.require(VIEW)
    await access_community(session, caller, community_id)
    await access_member(session, caller, person_id)
    rows = await ledger.entries(session, community_id=community_id, person_id=person_id,
                                limit=limit, offset=offset)
    total = await session.scalar(select(func.count()).select_from(PointsEntry).where(
        PointsEntry.community_id == community_id, PointsEntry.person_id == person_id))
    return Page(items=[EntryOut.model_validate(r) for r in rows], total=int(total or 0))


@router.post("/communities/{community_id}/points/{person_id}/adjust")
async def adjust(community_id: int, person_id: int, body: AdjustIn, caller: ApiCaller,
                 session: SessionDep, runtime: RuntimeDep) -> AdjustOut:
    amount = check_adjustment(str(body.amount), body.note)
    key = f"points:adjust:api:{caller.org_id}:{body.key or uuid.uuid4().hex}"
    entry = await do_staff_adjust(session, principal=caller, community_id=community_id,
                                  person_id=person_id, amount=amount, note=body.note, key=key,
                                  at=runtime.clock.now())
    await session.commit()
    return AdjustOut(recorded=entry is not None,
                     balance=await _balance(session, community_id, person_id))
