"""The only code that writes the points ledger. Services never commit.

Every change is one entry plus the matching change of the balance row, in the caller's
transaction. Debits are one conditional UPDATE (`balance >= n`), so concurrent spends can
never overdraw, on PostgreSQL as on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.errors import Conflict, InvalidInput
from qunyun.core.i18n import N_
from qunyun.db.dialect import insert_for
from qunyun.points.models import PointsBalance, PointsEntry

Entry = PointsEntry
MAX_PAGE = 200
_CHANGED = "qunyun.points.changed"  # session.info key: (community, person) changed lately


class InsufficientPoints(Conflict):
    code = "insufficient_points"

    def __init__(self, *, balance: int, amount: int) -> None:
        super().__init__(N_("not enough points: {balance} available, {amount} needed"),
                         balance=balance, amount=amount)


@dataclass(frozen=True, slots=True)
class Balance:
    balance: int
    lifetime_earned: int


@dataclass(frozen=True, slots=True)
class _Change:
    """One entry to record, as the service functions receive it."""

    org_id: int
    community_id: int
    person_id: int
    amount: int
    reason: str
    key: str
    at: datetime
    source_event: str | None = None
    actor: str | None = None
    note: str = ""
    group_id: int | None = None


async def do_award(session: AsyncSession, *, org_id: int, community_id: int, person_id: int,
                   amount: int, reason: str, key: str, at: datetime,
                   source_event: str | None = None, group_id: int | None = None) -> Entry | None:
    """Credit `amount` (> 0) points. The same `key` twice has no second effect: None."""
    _check_positive(amount)
    change = _Change(org_id, community_id, person_id, amount, reason, key, at, source_event,
                     group_id=group_id)
    return await _record(session, change)


async def do_spend(session: AsyncSession, *, org_id: int, community_id: int, person_id: int,
                   amount: int, reason: str, key: str, at: datetime,
                   source_event: str | None = None, group_id: int | None = None) -> Entry | None:
    """Debit `amount` (> 0) points; InsufficientPoints, changing nothing, when the balance is
    lower. The same `key` twice has no second effect: None."""
    _check_positive(amount)
    change = _Change(org_id, community_id, person_id, -amount, reason, key, at, source_event,
                     group_id=group_id)
    return await _record(session, change)


async def do_adjust(session: AsyncSession, *, org_id: int, community_id: int, person_id: int,
                    amount: int, actor: str, note: str, key: str, at: datetime,
                    reason: str = "adjust") -> Entry | None:
    """A staff member's manual change, either way; a debit may go down to zero, not below."""
    if amount == 0:
        raise InvalidInput("{option} must not be zero", option="amount")
    if not actor:
        raise InvalidInput("an adjustment needs an actor")
    change = _Change(org_id, community_id, person_id, amount, reason, key, at,
                     actor=actor, note=note)
    return await _record(session, change)


async def balance(session: AsyncSession, *, community_id: int, person_id: int) -> Balance:
    row = (await session.execute(
        select(PointsBalance.balance, PointsBalance.lifetime_earned)
        .where(PointsBalance.community_id == community_id,
               PointsBalance.person_id == person_id))).one_or_none()
    return Balance(0, 0) if row is None else Balance(row.balance, row.lifetime_earned)


async def entries(session: AsyncSession, *, community_id: int, person_id: int,
                  limit: int = 50, offset: int = 0) -> list[Entry]:
    """A person's entries in a community, newest first."""
    query = (select(PointsEntry)
             .where(PointsEntry.community_id == community_id,
                    PointsEntry.person_id == person_id)
             .order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
             .limit(min(max(limit, 1), MAX_PAGE)).offset(max(offset, 0)))
    return list((await session.scalars(query)).all())


def _check_positive(amount: int) -> None:
    if amount <= 0:
        raise InvalidInput("{option} must be a positive integer", option="amount")


def take_changed(session: AsyncSession, community_id: int, person_id: int) -> bool:
    """Whether the person's points in the community changed in this session since the last
    call (levels and badges look again only then)."""
    changed: set[tuple[int, int]] = session.info.get(_CHANGED, set())
    if (community_id, person_id) in changed:
        changed.discard((community_id, person_id))
        return True
    return False


async def _record(session: AsyncSession, change: _Change) -> Entry | None:
    if change.amount > 0:  # the insert itself skips a used key
        entry = await _insert_entry(session, change)
        if entry is not None:
            await _credit(session, change)
    elif await _key_used(session, change.org_id, change.key):
        return None  # checked first so a repeated spend never debits, even for a moment
    else:
        await _debit(session, change, -change.amount)
        entry = await _insert_entry(session, change)
        if entry is None:  # a concurrent transaction recorded the same key first: undo our debit
            await _undo_debit(session, change, -change.amount)
    if entry is not None:
        session.info.setdefault(_CHANGED, set()).add((change.community_id, change.person_id))
    return entry


async def _key_used(session: AsyncSession, org_id: int, key: str) -> bool:
    found = await session.scalar(select(PointsEntry.id).where(
        PointsEntry.org_id == org_id, PointsEntry.idempotency_key == key))
    return found is not None


async def _insert_entry(session: AsyncSession, change: _Change) -> Entry | None:
    """Insert the entry unless its key is taken (ON CONFLICT DO NOTHING); None if taken."""
    values = {
        "org_id": change.org_id, "community_id": change.community_id,
        "person_id": change.person_id, "amount": change.amount, "reason": change.reason,
        "source_event": change.source_event, "idempotency_key": change.key,
        "created_at": change.at, "actor": change.actor, "note": change.note,
        "group_id": change.group_id,
    }
    statement = (insert_for(session, PointsEntry).values(**values)
                 .on_conflict_do_nothing(index_elements=["org_id", "idempotency_key"])
                 .returning(*PointsEntry.__table__.c))
    entry: Entry | None = await session.scalar(select(PointsEntry).from_statement(statement))
    return entry


async def _credit(session: AsyncSession, change: _Change) -> None:
    statement: Any = insert_for(session, PointsBalance).values(
        org_id=change.org_id, community_id=change.community_id, person_id=change.person_id,
        balance=change.amount, lifetime_earned=change.amount, updated_at=change.at)
    statement = statement.on_conflict_do_update(
        index_elements=["community_id", "person_id"],
        set_={"balance": PointsBalance.balance + statement.excluded.balance,
              "lifetime_earned": PointsBalance.lifetime_earned + statement.excluded.balance,
              "updated_at": statement.excluded.updated_at})
    await session.execute(statement)


async def _debit(session: AsyncSession, change: _Change, amount: int) -> None:
    """Take `amount` off in one conditional UPDATE; InsufficientPoints when it matched no row."""
    statement = (update(PointsBalance)
                 .where(PointsBalance.community_id == change.community_id,
                        PointsBalance.person_id == change.person_id,
                        PointsBalance.balance >= amount)
                 .values(balance=PointsBalance.balance - amount, updated_at=change.at)
                 .returning(PointsBalance.balance)
                 .execution_options(synchronize_session=False))
    if (await session.execute(statement)).first() is None:
        current = await balance(session, community_id=change.community_id,
                                person_id=change.person_id)
        raise InsufficientPoints(balance=current.balance, amount=amount)


async def _undo_debit(session: AsyncSession, change: _Change, amount: int) -> None:
    await session.execute(
        update(PointsBalance)
        .where(PointsBalance.community_id == change.community_id,
               PointsBalance.person_id == change.person_id)
        .values(balance=PointsBalance.balance + amount)
        .execution_options(synchronize_session=False))


# --- many awards at once (the pipeline's batches) -------------------------------------------

@dataclass(frozen=True, slots=True)
class NewAward:
    """One credit for `do_award_many`; the same fields as `do_award`'s."""

    org_id: int
    community_id: int
    person_id: int
    amount: int
    reason: str
    key: str
    at: datetime
    source_event: str | None = None
    group_id: int | None = None


async def do_award_many(session: AsyncSession, awards: Sequence[NewAward]) -> int:
    """Credit many awards at once: one INSERT of the entries (keys already used, or repeated in
    `awards`, are skipped: no second effect) and one upsert of the balances (a row per person).
    Returns how many entries were recorded."""
    unique: dict[tuple[int, str], NewAward] = {}
    for award in awards:
        _check_positive(award.amount)
        unique.setdefault((award.org_id, award.key), award)
    if not unique:
        return 0
    rows = [{"org_id": a.org_id, "community_id": a.community_id, "person_id": a.person_id,
             "amount": a.amount, "reason": a.reason, "source_event": a.source_event,
             "idempotency_key": a.key, "created_at": a.at, "actor": None, "note": "",
             "group_id": a.group_id} for a in unique.values()]
    table: Any = PointsEntry.__table__  # Core, not ORM: a fifth faster for a batch
    statement = (insert_for(session, table)
                 .on_conflict_do_nothing(index_elements=["org_id", "idempotency_key"])
                 .returning(table.c.org_id, table.c.community_id, table.c.person_id,
                            table.c.amount, table.c.created_at))
    recorded = (await session.execute(statement, rows)).all()
    credits: dict[tuple[int, int], list[Any]] = {}
    for org_id, community_id, person_id, amount, at in recorded:
        credit = credits.setdefault((community_id, person_id), [org_id, 0, at])
        credit[1] += amount
        credit[2] = max(credit[2], at)
    if credits:
        upsert: Any = insert_for(session, PointsBalance)
        upsert = upsert.on_conflict_do_update(
            index_elements=["community_id", "person_id"],
            set_={"balance": PointsBalance.balance + upsert.excluded.balance,
                  "lifetime_earned": PointsBalance.lifetime_earned + upsert.excluded.balance,
                  "updated_at": upsert.excluded.updated_at})
        await session.execute(upsert, [
            {"org_id": org_id, "community_id": c, "person_id": p, "balance": total,
             "lifetime_earned": total, "updated_at": at}
            for (c, p), (org_id, total, at) in sorted(credits.items())])
        session.info.setdefault(_CHANGED, set()).update(credits)
    return len(recorded)
