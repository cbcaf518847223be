"""Delivery: after commit, actions leave the outbox through the platform port.

Per-platform and per-group token buckets, retries with exponential backoff, a final failed state
with the reason, the action id as the idempotency key. Actions of one group leave in order: a
group whose next action must wait holds its later ones back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qunyun.community.models import Organization
from qunyun.core.actions import Action
from qunyun.core.clock import Clock
from qunyun.core.config import PlatformConfig, RateLimitConfig
from qunyun.core.errors import NotFound
from qunyun.core.i18n import N_
from qunyun.core.platform import DeliveryResult, Platform, RateLimit
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.outbox import DISPATCHED, DONE, FAILED, PENDING, TASK, create_task
from qunyun.pipeline.ratelimit import RateLimiter

log = logging.getLogger(__name__)


def to_action(row: ActionRecord) -> Action:
    return Action(id=row.id, type=row.type, platform=row.platform, group=row.group_pid,
                  member=row.member_pid, caused_by=row.caused_by, data=row.data)


def backoff_seconds(attempts: int, config: PlatformConfig) -> float:
    """base · 2^(attempts-1), capped: 2 s, 4 s, 8 s … for the default base."""
    return float(min(config.backoff_max_s, config.backoff_base_s * 2 ** (attempts - 1)))


class Delivery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 platform_for: Callable[[str], Platform],
                 config_for: Callable[[str], PlatformConfig], clock: Clock,
                 on_dispatched: Callable[[int], None] | None = None,
                 writer: async_sessionmaker[AsyncSession] | None = None) -> None:
        self._sessions = sessions
        # Recording an attempt reads the row, then writes it: a writer session (engine.py).
        self._writer = writer or sessions
        # Called with the organization id once a `dispatched` action is committed (bridge polls).
        self._on_dispatched = on_dispatched
        self._platform_for = platform_for
        self._config_for = config_for
        self._clock = clock
        self._limiter = RateLimiter()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self, limit: int = 200) -> float | None:
        """Deliver what is due now. Returns seconds until something may be due, or None."""
        now = self._clock.now()
        async with self._sessions() as session:
            rows = (await session.scalars(
                select(ActionRecord).where(ActionRecord.status == PENDING)
                .where((ActionRecord.next_attempt_at.is_(None))
                       | (ActionRecord.next_attempt_at <= now))
                .order_by(ActionRecord.seq).limit(limit))).all()
        held: set[tuple[str, str | None]] = set()
        soonest: float | None = None
        for row in rows:
            key = (row.platform, row.group_pid)
            if key in held:
                continue
            wait = self._wait(row, now)
            if wait > 0:
                held.add(key)
                soonest = wait if soonest is None else min(soonest, wait)
                continue
            if not await self._attempt(row, now):
                held.add(key)
        if len(rows) == limit:
            return 0.0
        later = await self._next_retry_in(now)
        candidates = [x for x in (soonest, later) if x is not None]
        return min(candidates) if candidates else None

    def _wait(self, row: ActionRecord, now: datetime) -> float:
        config = self._config_for(row.platform)
        return self._limiter.wait_time(row.platform, row.group_pid, _limit(config.platform),
                                       _limit(config.group), now)

    async def _attempt(self, row: ActionRecord, now: datetime) -> bool:
        """One delivery attempt; True when the action left (done or dispatched)."""
        config = self._config_for(row.platform)
        self._limiter.take(row.platform, row.group_pid, _limit(config.platform),
                           _limit(config.group), now)
        platform = self._platform_for(row.platform)
        try:
            result = await platform.deliver(to_action(row))
        except Exception as exc:
            result = DeliveryResult("retry", reason=f"{type(exc).__name__}: {exc}")
        async with self._writer() as session:
            record = await session.get(ActionRecord, row.seq)
            assert record is not None
            await self._record(session, record, result, config, now)
            await session.commit()
        if result.status == "dispatched" and self._on_dispatched is not None:
            self._on_dispatched(row.org_id)
        return result.status in ("done", "dispatched")

    async def _record(self, session: AsyncSession, row: ActionRecord, result: DeliveryResult,
                      config: PlatformConfig, now: datetime) -> None:
        row.attempts += 1
        if result.status == "done":
            row.status, row.finished_at, row.last_error = DONE, now, None
        elif result.status == "dispatched":
            row.status = DISPATCHED
        elif result.status == "unsupported":
            await _to_task(session, row, now, result.reason)
        elif result.status == "retry" and row.attempts < config.max_attempts:
            delay = result.retry_after or backoff_seconds(row.attempts, config)
            row.next_attempt_at = now + timedelta(seconds=delay)
            row.last_error = result.reason
        else:
            row.status, row.finished_at = FAILED, now
            row.last_error = result.reason or "delivery failed"
            log.warning("action %s failed after %d attempts: %s", row.id, row.attempts,
                        row.last_error)

    async def _next_retry_in(self, now: datetime) -> float | None:
        async with self._sessions() as session:
            due = await session.scalar(
                select(ActionRecord.next_attempt_at)
                .where(ActionRecord.status == PENDING, ActionRecord.next_attempt_at > now)
                .order_by(ActionRecord.next_attempt_at).limit(1))
        return None if due is None else max(0.0, (due - now).total_seconds())

    async def run_forever(self, stop: asyncio.Event, idle_s: float = 5.0) -> None:
        """Deliver until `stop` is set; sleep until woken, until something is due, or `idle_s`."""
        while not stop.is_set():
            self._wake.clear()  # before the round: a wake-up during it starts another round
            try:
                wait = await self.run_once()
            except Exception:
                log.exception("delivery round failed")
                wait = idle_s
            if wait == 0.0:
                continue
            timeout = idle_s if wait is None else min(idle_s, wait)
            woken = asyncio.ensure_future(self._wake.wait())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({woken, stopped}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            for waiter in (woken, stopped):
                waiter.cancel()


def _limit(config: RateLimitConfig) -> RateLimit:
    return RateLimit(rate=config.rate, burst=config.burst)


async def _to_task(session: AsyncSession, row: ActionRecord, now: datetime,
                   reason: str | None) -> None:
    row.status, row.finished_at = TASK, now
    row.last_error = reason
    language = await session.scalar(select(Organization.language)
                                    .where(Organization.id == row.org_id))
    await create_task(session, row.org_id, row.group_id, row.seq, to_action(row), now,
                      language or "zh_CN",
                      reason=reason or N_("the platform cannot perform this action"))


async def acknowledge(session: AsyncSession, *, org_id: int, action_id: str, result: str,
                      reason: str | None, now: datetime) -> ActionRecord:
    """A bridge's answer for an action it fetched: done, failed (with a reason) or unsupported."""
    row = await session.scalar(select(ActionRecord).where(ActionRecord.org_id == org_id,
                                                          ActionRecord.id == action_id))
    if row is None:
        raise NotFound("no such action: {id}", id=action_id)
    if row.status != DISPATCHED:
        return row  # acknowledged before: acknowledging twice has one effect
    if result == "done":
        row.status, row.finished_at = DONE, now
    elif result == "failed":
        row.status, row.finished_at = FAILED, now
        row.last_error = reason or "failed"
    else:
        await _to_task(session, row, now, reason)
    await session.flush()
    return row
