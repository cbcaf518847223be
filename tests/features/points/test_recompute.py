"""Recompute: a dry run shows the difference per member, applying writes exactly it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.app.points_recompute import (
    RecomputePlan,
    do_apply_recompute,
    plan_recompute,
    settings_from_toml,
)
from qunyun.community.audit import AuditEntry
from qunyun.community.staff_service import cli_principal
from qunyun.core.errors import InvalidInput
from qunyun.features.points.settings import PointsSettings
from qunyun.points import service as ledger
from qunyun.points.models import PointsEntry
from tests.conftest import START
from tests.features.points.conftest import (
    balances,
    community_of,
    feed,
    mixed_history,
    person_of,
    post,
    switch_on,
)

UNTIL = START + timedelta(days=5)


async def plan(runtime: Runtime, org_id: int,
               override: PointsSettings | None = None) -> RecomputePlan:
    async with runtime.sessions() as session:
        return await plan_recompute(session, runtime.registry, org_id=org_id,
                                    community_id=await community_of(runtime, org_id),
                                    until=UNTIL, override=override)


async def apply(runtime: Runtime, org_id: int, override: PointsSettings | None = None) -> list:
    async with runtime.sessions() as session:
        found = await plan_recompute(session, runtime.registry, org_id=org_id,
                                     community_id=await community_of(runtime, org_id),
                                     until=UNTIL, override=override)
        done = await do_apply_recompute(session, found, org_id=org_id,
                                        principal=cli_principal(org_id), at=UNTIL)
        await session.commit()
        return done


async def test_dry_run_then_apply_writes_the_difference(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id, invite_hold_hours=1)
    await feed(runtime, org_id, *mixed_history(seed=11, count=250))
    await runtime.pipeline.tick(UNTIL)
    before = await balances(runtime, org_id)
    doubled = settings_from_toml("[features.points]\nmessage_points = 2\nreaction_points = 0\n")
    dry = await plan(runtime, org_id, doubled)
    assert dry.members and any(m.difference < 0 for m in dry.members) \
        and any(m.difference > 0 for m in dry.members)
    assert await balances(runtime, org_id) == before  # a dry run writes nothing
    for member in dry.members:
        assert member.recomputed == sum(member.by_reason.values())
        assert "reaction" not in member.by_reason

    done = await apply(runtime, org_id, doubled)
    assert [(a.person_id, a.applied, a.shortfall) for a in done] == [
        (m.person_id, m.difference, 0) for m in dry.members]
    after = await balances(runtime, org_id)
    names = {await person_of(runtime, org_id, user): user for user in after}
    for member in dry.members:
        user = names[member.person_id]
        assert after[user] - before.get(user, 0) == member.difference
    assert (await plan(runtime, org_id, doubled)).members == []  # nothing left to correct
    assert await apply(runtime, org_id, doubled) == []
    async with runtime.sessions() as session:
        audit = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "points.recompute"))
        assert audit is not None and audit.actor == "cli"


async def test_current_settings_are_the_default(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id)
    await feed(runtime, org_id, post("u1", "第一条认真的长发言", "m1", 0),
               post("u1", "第二条认真的长发言内容", "m2", 5))
    assert (await plan(runtime, org_id)).members == []
    await switch_on(runtime, org_id, message_points=3)  # the rule changes
    changed = await plan(runtime, org_id)
    assert [(m.current, m.recomputed, m.difference) for m in changed.members] == [(2, 6, 4)]


async def test_a_correction_never_overdraws(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id, message_cooldown_seconds=0)
    await feed(runtime, org_id, *(post("u1", f"第{i}条不一样的发言内容{i * 97}", f"m{i}", i)
                                  for i in range(5)))
    community_id = await community_of(runtime, org_id)
    person_id = await person_of(runtime, org_id, "u1")
    async with runtime.sessions() as session:
        await ledger.do_spend(session, org_id=org_id, community_id=community_id,
                              person_id=person_id, amount=4, reason="spend", key="shop:1",
                              at=START + timedelta(hours=1))
        await session.commit()
    done = await apply(runtime, org_id, PointsSettings(enabled=True, message_points=0))
    assert [(a.difference, a.applied, a.shortfall) for a in done] == [(-5, -1, 4)]
    assert await balances(runtime, org_id) == {"u1": 0}
    still = await plan(runtime, org_id, PointsSettings(enabled=True, message_points=0))
    assert [m.difference for m in still.members] == [-4]  # the shortfall stays owing
    async with runtime.sessions() as session:
        rows = (await session.execute(select(PointsEntry.reason, PointsEntry.amount)
                                      .order_by(PointsEntry.id))).all()
    assert [tuple(r) for r in rows][-2:] == [("spend", -4), ("recompute", -1)]


def test_a_bad_settings_file_names_the_key() -> None:
    with pytest.raises(InvalidInput) as raised:
        settings_from_toml("[features.points]\nmessage_pointz = 2\nmessage_points = -1\n")
    assert sorted(e.path for e in raised.value.errors) == [
        "features.points.message_points", "features.points.message_pointz"]
    with pytest.raises(InvalidInput):
        settings_from_toml("message_points = ")
    top_level = settings_from_toml("message_points = 4\n")
    assert top_level.enabled and top_level.message_points == 4
