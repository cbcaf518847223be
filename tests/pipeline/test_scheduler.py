"""Scheduled work fires as logical time passes it; replay gives the same result every time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from qunyun.core.clock import ManualClock
from qunyun.pipeline.models import ActionRecord, ScheduledJob
from tests import factories as f
from tests.pipeline import fakes
from tests.pipeline.conftest import RuntimeFactory


async def test_jobs_fire_when_the_clock_passes(make_runtime: RuntimeFactory,
                                               clock: ManualClock) -> None:
    rt, org = await make_runtime(fakes.reminder())
    clock.set(f.BASE)
    await rt.pipeline.ingest(org, [f.message("u1", "remind me"), f.message("u1", "remind me")])
    assert await rt.pipeline.tick() == 0
    clock.advance(timedelta(minutes=10))
    assert await rt.pipeline.tick() == 1
    assert await rt.pipeline.tick() == 0
    async with rt.sessions() as session:
        [job] = (await session.scalars(select(ScheduledJob))).all()
        [action] = (await session.scalars(select(ActionRecord))).all()
    assert job.status == "fired"
    assert action.caused_by == job.id
    assert action.data["text"] == "reminder for u1 at 2026-11-22T00:10:00+00:00"


async def test_replay_fires_jobs_at_event_time(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(fakes.reminder(), replay=True)
    await rt.pipeline.ingest(org, [f.message("u1", "remind me", minutes=0),
                                   f.message("u2", "later", minutes=30)])
    async with rt.sessions() as session:
        [action] = (await session.scalars(select(ActionRecord))).all()
    # Fired before the 00:30 event, at its own due time, not at the wall clock's.
    assert action.data["text"].endswith("at 2026-11-22T00:10:00+00:00")
    assert action.status == "skipped"



async def test_a_job_may_schedule_the_next_one(make_runtime: RuntimeFactory) -> None:
    # A weekly digest schedules next week's from its own job: each link must fire in turn.
    rt, org = await make_runtime(fakes.chain(), replay=True)
    await rt.pipeline.ingest(org, [f.message("u1", "chain", minutes=0),
                                   f.message("u2", "later", minutes=60)])
    async with rt.sessions() as session:
        texts = (await session.scalars(select(ActionRecord.data)
                                       .order_by(ActionRecord.seq))).all()
    assert [t["text"] for t in texts] == ["link 1", "link 2", "link 3"]


async def test_a_job_asked_for_again_in_a_later_unit_fires_once(
        make_runtime: RuntimeFactory) -> None:
    """The second request of the same key is a no-op, also when both fall due together."""
    rt, org = await make_runtime(fakes.reminder(), replay=True)
    await rt.pipeline.ingest(org, [f.message("u1", "remind me", minutes=0)])
    await rt.pipeline.ingest(org, [f.message("u1", "remind me", minutes=5),
                                   f.message("u2", "later", minutes=30)])
    async with rt.sessions() as session:
        actions = (await session.scalars(select(ActionRecord))).all()
        [job] = (await session.scalars(select(ScheduledJob))).all()
    assert [a.data["text"] for a in actions] == ["reminder for u1 at 2026-11-22T00:10:00+00:00"]
    assert job.status == "fired" and job.fired_at is not None


async def test_jobs_scheduled_and_due_in_one_unit_fire_in_order_of_due_time(
        make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(fakes.chain(), replay=True)
    await rt.pipeline.ingest(org, [f.message("u1", "chain", minutes=0),
                                   f.message("u2", "later", minutes=45)])
    async with rt.sessions() as session:
        texts = [a.data["text"] for a in (await session.scalars(
            select(ActionRecord).order_by(ActionRecord.seq))).all()]
        jobs = (await session.scalars(select(ScheduledJob).order_by(ScheduledJob.due_at))).all()
    assert texts == ["link 1", "link 2", "link 3"]
    assert [j.status for j in jobs] == ["fired"] * 3
