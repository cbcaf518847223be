"""Engagement figures of members for reports: points balance and level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.features.levels.models import LevelMember
from qunyun.features.levels.queries import community_settings
from qunyun.points.models import PointsBalance


async def member_engagement(session: AsyncSession, org_id: int, community_id: int | None,
                            person_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """{person id: {"points": balance, "level": level name or None}} in a community; the level
    is None for someone the levels feature has not placed."""
    if community_id is None or not person_ids:
        return {}
    found: dict[int, dict[str, Any]] = {pid: {"points": 0, "level": None} for pid in person_ids}
    balances = await session.execute(
        select(PointsBalance.person_id, PointsBalance.balance)
        .where(PointsBalance.community_id == community_id,
               PointsBalance.person_id.in_(set(person_ids))))
    for person_id, balance in balances:
        found[person_id]["points"] = balance
    placed = (await session.execute(
        select(LevelMember.person_id, LevelMember.level)
        .where(LevelMember.community_id == community_id,
               LevelMember.person_id.in_(set(person_ids))))).all()
    if placed:
        ladder = (await community_settings(session, org_id, community_id)).levels
        for person_id, level in placed:
            found[person_id]["level"] = ladder[min(level, len(ladder) - 1)].name
    return found
