"""Expiry: earned points expire after N days unless spent, oldest first.

The rule: every credit of a person's ledger (an entry with a positive amount) is a lot, earned
at its `created_at`. Debits (spends, negative adjustments and corrections) use the oldest lots
first (FIFO, in the order the entries were recorded). A lot left unspent N days after it was
earned expires: an `expire` entry takes exactly what is left of the expired lots, and it uses
those lots (not the oldest ones), so running the rule again finds nothing more to take. The
sum expired is never more than the balance, so a balance never goes negative.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.points.models import PointsBalance, PointsEntry
from qunyun.points.service import InsufficientPoints, do_spend

EXPIRE = "expire"
CHUNK = 500  # persons whose entries are read at once


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger entry as the rule sees it, in the order entries were recorded."""

    amount: int
    at: datetime
    reason: str


@dataclass(slots=True)
class _Lot:
    at: datetime
    left: int


def expiring(movements: Iterable[Movement], now: datetime, after: timedelta) -> int:
    """How many points expire at `now`: what is left of the lots earned `after` or longer ago."""
    lots: deque[_Lot] = deque()
    for move in movements:
        if move.amount > 0:
            lots.append(_Lot(move.at, move.amount))
        elif move.reason == EXPIRE:
            rest = _use(lots, -move.amount, _earned_by(move.at - after))
            _use(lots, rest, _any_lot)
        else:
            _use(lots, -move.amount, _any_lot)
    return sum(lot.left for lot in lots if lot.at + after <= now)


def _earned_by(cutoff: datetime) -> Callable[[_Lot], bool]:
    return lambda lot: lot.at <= cutoff


def _any_lot(lot: _Lot) -> bool:
    return True


def _use(lots: deque[_Lot], amount: int, eligible: Callable[[_Lot], bool]) -> int:
    """Take `amount` from the eligible lots, oldest first; what could not be taken."""
    for lot in lots:
        if amount <= 0:
            break
        if lot.left and eligible(lot):
            taken = min(lot.left, amount)
            lot.left -= taken
            amount -= taken
    while lots and lots[0].left == 0:
        lots.popleft()
    return amount


@dataclass(frozen=True, slots=True)
class ExpiryResult:
    persons: int
    points: int


async def do_expire(session: AsyncSession, *, org_id: int, community_id: int, after_days: int,
                    at: datetime) -> ExpiryResult:
    """Write the `expire` entries of a community due at `at` (idempotent per `at`)."""
    if after_days <= 0:
        return ExpiryResult(0, 0)
    after = timedelta(days=after_days)
    candidates = await _candidates(session, community_id, at - after)
    persons = points = 0
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start:start + CHUNK]
        for person_id, movements in (await _movements(session, community_id, chunk)).items():
            amount = expiring(movements, at, after)
            if amount <= 0:
                continue
            try:
                entry = await do_spend(session, org_id=org_id, community_id=community_id,
                                       person_id=person_id, amount=amount, reason=EXPIRE,
                                       key=f"points:{EXPIRE}:{community_id}:{person_id}:"
                                           f"{at.isoformat()}", at=at)
            except InsufficientPoints:
                continue  # entries recorded out of order by concurrent writers: next run
            if entry is not None:
                persons += 1
                points += amount
    return ExpiryResult(persons, points)


async def _candidates(session: AsyncSession, community_id: int, cutoff: datetime) -> list[int]:
    """Persons with a balance and a credit earned at or before `cutoff`."""
    old_credit = exists().where(and_(PointsEntry.community_id == community_id,
                                     PointsEntry.person_id == PointsBalance.person_id,
                                     PointsEntry.amount > 0,
                                     PointsEntry.created_at <= cutoff))
    rows = await session.scalars(
        select(PointsBalance.person_id)
        .where(PointsBalance.community_id == community_id, PointsBalance.balance > 0,
               old_credit).order_by(PointsBalance.person_id))
    return list(rows)


async def _movements(session: AsyncSession, community_id: int,
                     person_ids: Sequence[int]) -> dict[int, list[Movement]]:
    rows = await session.execute(
        select(PointsEntry.person_id, PointsEntry.amount, PointsEntry.created_at,
               PointsEntry.reason)
        .where(PointsEntry.community_id == community_id, PointsEntry.person_id.in_(person_ids))
        .order_by(PointsEntry.person_id, PointsEntry.id))
    found: dict[int, list[Movement]] = {}
    for person_id, amount, at, reason in rows:
        found.setdefault(person_id, []).append(Movement(amount, at, reason))
    return found
