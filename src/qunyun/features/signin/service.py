"""The only code that writes `signin`'s state. Services never commit.

A sign-in claims its day by inserting the day's record (unique per community, person and day:
a second one, from this or a concurrent transaction, inserts nothing), then takes its rank
from the group-day counter, incremented and read in one statement. So ranks have no gaps or
repeats, on PostgreSQL under concurrency too. The points (keyed by community, person and day,
so they are paid once) and the rank on the record are written for the whole unit of work at
once (`Pending`, `do_write_pending`): a morning burst costs four statements per sign-in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.errors import Conflict, InvalidInput
from qunyun.core.i18n import N_
from qunyun.db.dialect import insert_for
from qunyun.features.signin.models import FILLED, SIGNED, SigninCards, SigninDaily, SigninRecord
from qunyun.features.signin.settings import SigninSettings
from qunyun.points.models import PointsBalance
from qunyun.points.service import NewAward, balance, do_award_many, do_spend

SIGNIN_REASON = "signin"
BONUS_REASON = "signin_bonus"
CARD_REASON = "makeup_card"


@dataclass(frozen=True, slots=True)
class Signer:
    """Who signs in, where: the person, their community (points live there) and the group."""

    org_id: int
    community_id: int
    person_id: int
    group_id: int

    @property
    def person(self) -> dict[str, int]:
        return {"org_id": self.org_id, "community_id": self.community_id,
                "person_id": self.person_id}


@dataclass(frozen=True, slots=True)
class Signin:
    new: bool  # False: already signed in that day (in this group or another one)
    day: date
    rank: int | None  # among the group's sign-ins of the day; of the first group when not new
    streak: int
    points: int  # awarded now, without the bonus
    bonus: int
    balance: int


@dataclass(frozen=True, slots=True)
class Cards:
    held: int
    balance: int


@dataclass(frozen=True, slots=True)
class Fill:
    day: date
    streak: int  # the current streak after the fill
    held: int  # cards left


@dataclass
class Pending:
    """What the sign-ins of one unit of work still owe: points and the ranks of records."""

    awards: list[NewAward] = field(default_factory=list)
    ranks: list[dict[str, int]] = field(default_factory=list)
    owed: Counter[tuple[int, int]] = field(default_factory=Counter)  # (community, person)

    def owed_to(self, signer: Signer) -> int:
        return self.owed[(signer.community_id, signer.person_id)]

    def pay(self, signer: Signer, *, reason: str, amount: int, key: str, at: datetime,
            source_event: str | None) -> None:
        self.awards.append(NewAward(**signer.person, amount=amount, reason=reason, key=key,
                                    at=at, source_event=source_event, group_id=signer.group_id))
        self.owed[(signer.community_id, signer.person_id)] += amount


class NoCard(Conflict):
    code = "no_makeup_card"

    def __init__(self) -> None:
        super().__init__(N_("you have no make-up card"))


async def do_signin(session: AsyncSession, *, signer: Signer, day: date, at: datetime,
                    settings: SigninSettings, source_event: str | None = None,
                    pending: Pending | None = None) -> Signin:
    """Sign in for local `day`; a second sign-in that day changes nothing (`new` False).
    Points and the rank are left in `pending` for `do_write_pending`; without it, written now."""
    owed = pending if pending is not None else Pending()
    near, current = await _near(session, signer, day)
    if day in near:
        return _answer_again(day, near[day], current, signer, owed)
    yesterday = near.get(day - timedelta(days=1))
    streak = yesterday[0] + 1 if yesterday else 1
    bonus = settings.bonus_for(streak)
    record_id = await _claim(session, signer, day, at, kind=SIGNED, streak=streak,
                             points=settings.points + bonus, source_event=source_event)
    if record_id is None:  # claimed by a concurrent transaction
        return await _already(session, signer, day, None, owed)
    rank = await _next_rank(session, signer.group_id, day)
    owed.ranks.append({"id": record_id, "rank": rank})
    key = f"{signer.community_id}:{signer.person_id}:{day.isoformat()}"
    for reason, amount in ((SIGNIN_REASON, settings.points), (BONUS_REASON, bonus)):
        if amount:
            owed.pay(signer, reason=reason, amount=amount, key=f"{reason}:{key}", at=at,
                     source_event=source_event)
    if day + timedelta(days=1) in near:  # a late event: it joins the run that follows
        await _rejoin(session, signer, day, streak)
    # `current` was read before the claim, which changes no balance.
    result = Signin(True, day, rank, streak, settings.points, bonus,
                    current + owed.owed_to(signer))
    if pending is None:
        await do_write_pending(session, owed)
    return result


async def do_write_pending(session: AsyncSession, pending: Pending) -> None:
    """Pay what the sign-ins owe and store their ranks; `pending` is empty afterwards."""
    if pending.awards:
        await do_award_many(session, pending.awards)
    if pending.ranks:
        await session.execute(update(SigninRecord), pending.ranks)
    pending.awards.clear()
    pending.ranks.clear()
    pending.owed.clear()


async def do_buy_card(session: AsyncSession, *, signer: Signer, price: int, key: str,
                      at: datetime, source_event: str | None = None) -> Cards:
    """Spend `price` points on one make-up card; InsufficientPoints changes nothing. The same
    `key` twice buys once."""
    spent = await do_spend(session, **signer.person, amount=price, reason=CARD_REASON, key=key,
                           at=at, source_event=source_event, group_id=signer.group_id)
    if spent is not None:
        statement = insert_for(session, SigninCards).values(
            **signer.person, held=1, bought=1, used=0, updated_at=at)
        statement = statement.on_conflict_do_update(
            index_elements=["community_id", "person_id"],
            set_={"held": SigninCards.held + 1, "bought": SigninCards.bought + 1,
                  "updated_at": at})
        await session.execute(statement)
    current = await balance(session, community_id=signer.community_id,
                            person_id=signer.person_id)
    return Cards(await cards_held(session, signer.community_id, signer.person_id),
                 current.balance)


async def do_use_card(session: AsyncSession, *, signer: Signer, today: date, day: date | None,
                      window: int, at: datetime, source_event: str | None = None) -> Fill:
    """Fill `day` (default: the latest missed day of the `window` days before today) with a
    card; the filled day joins the streaks on both sides."""
    earliest = today - timedelta(days=window)
    if day is not None and not earliest <= day < today:
        raise InvalidInput("only the {days} days before today can be filled", days=window)
    known = await _streaks(session, signer, _days(earliest - timedelta(days=1), today))
    if day is None:
        day = next((d for d in reversed(_days(earliest, today)) if d not in known), None)
        if day is None:
            raise Conflict("no missed day in the last {days} days", days=window)
    elif day in known:
        raise Conflict("{day} is already signed in", day=day.isoformat())
    held = await _take_card(session, signer, at)
    streak = known.get(day - timedelta(days=1), 0) + 1
    if await _claim(session, signer, day, at, kind=FILLED, streak=streak, points=0,
                    source_event=source_event) is None:
        raise Conflict("{day} is already signed in", day=day.isoformat())
    await _rejoin(session, signer, day, streak)
    return Fill(day, await current_streak(session, signer.community_id, signer.person_id,
                                          today), held)


async def current_streak(session: AsyncSession, community_id: int, person_id: int,
                         today: date) -> int:
    """The streak still alive today: ending today, or yesterday (today may continue it)."""
    streak = await session.scalar(
        select(SigninRecord.streak)
        .where(SigninRecord.community_id == community_id, SigninRecord.person_id == person_id,
               SigninRecord.day >= today - timedelta(days=1), SigninRecord.day <= today)
        .order_by(SigninRecord.day.desc()).limit(1))
    return int(streak or 0)


async def cards_held(session: AsyncSession, community_id: int, person_id: int) -> int:
    held = await session.scalar(select(SigninCards.held).where(
        SigninCards.community_id == community_id, SigninCards.person_id == person_id))
    return int(held or 0)


# --- internals ----------------------------------------------------------------------------

def _days(start: date, end: date) -> list[date]:
    """Every day from `start` up to, not including, `end`."""
    return [start + timedelta(days=i) for i in range((end - start).days)]


async def _streaks(session: AsyncSession, signer: Signer, days: list[date]) -> dict[date, int]:
    """Streak per recorded day among `days`."""
    rows = await session.execute(
        select(SigninRecord.day, SigninRecord.streak)
        .where(SigninRecord.community_id == signer.community_id,
               SigninRecord.person_id == signer.person_id,
               SigninRecord.day >= min(days), SigninRecord.day <= max(days)))
    return {d: s for d, s in rows}


async def _near(session: AsyncSession, signer: Signer,
                day: date) -> tuple[dict[date, tuple[int, int | None]], int]:
    """(streak, rank) of the recorded days among the day before, `day` and the day after; and
    the points balance, in one statement (`_NEAR`)."""
    rows = (await session.execute(_NEAR, {
        "community_id": signer.community_id, "person_id": signer.person_id,
        "first": day - timedelta(days=1), "last": day + timedelta(days=1)})).all()
    current = int(rows[0][0] or 0) if rows else 0
    return {d: (streak, rank) for _, d, streak, rank in rows if d is not None}, current


def _near_statement() -> Select[Any]:
    """A one-row anchor, the balance as a scalar subquery and the person's records of the days
    from `first` to `last` outer-joined (one row with no day when there is none). Built once:
    building it costs more than running it. On the tables: Core runs it with less work."""
    records, held = SigninRecord.__table__, PointsBalance.__table__.c
    record = records.c
    community: BindParameter[int] = bindparam("community_id")
    person: BindParameter[int] = bindparam("person_id")
    anchor = select(literal(1).label("one")).subquery()
    return (select(select(held.balance)
                   .where(held.community_id == community, held.person_id == person)
                   .scalar_subquery(),
                   record.day, record.streak, record.rank)
            .select_from(anchor)
            .outerjoin(records, (record.community_id == community)
                       & (record.person_id == person)
                       & (record.day >= bindparam("first")) & (record.day <= bindparam("last"))))


_NEAR = _near_statement()
_WRITES: dict[tuple[str, str], Any] = {}  # (dialect, name) -> statement


def _claim_statement(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id of a day's record, values as parameters."""
    key = (session.get_bind().dialect.name, "claim")
    if key not in _WRITES:
        table = SigninRecord.__table__
        _WRITES[key] = (insert_for(session, table)
                        .on_conflict_do_nothing(index_elements=["community_id", "person_id",
                                                                "day"])
                        .returning(table.c.id))
    return _WRITES[key]


def _rank_statement(session: AsyncSession) -> Any:
    """The group-day counter incremented and read in one statement, values as parameters."""
    key = (session.get_bind().dialect.name, "rank")
    if key not in _WRITES:
        table = SigninDaily.__table__
        _WRITES[key] = (insert_for(session, table)
                        .on_conflict_do_update(index_elements=["group_id", "day"],
                                               set_={"count": table.c.count + 1})
                        .returning(table.c.count))
    return _WRITES[key]


def _answer_again(day: date, known: tuple[int, int | None], current: int, signer: Signer,
                  pending: Pending) -> Signin:
    """The answer to a second sign-in of `day`, whose (streak, rank) and balance are known."""
    return Signin(False, day, known[1], known[0], 0, 0, current + pending.owed_to(signer))


async def _already(session: AsyncSession, signer: Signer, day: date,
                   known: tuple[int, int | None] | None, pending: Pending) -> Signin:
    """The answer to a second sign-in; `known`: the day's (streak, rank) if read already."""
    if known is None:
        row = (await session.execute(
            select(SigninRecord.streak, SigninRecord.rank)
            .where(SigninRecord.community_id == signer.community_id,
                   SigninRecord.person_id == signer.person_id,
                   SigninRecord.day == day))).first()
        known = (row.streak, row.rank) if row is not None else (0, None)
    current = await balance(session, community_id=signer.community_id,
                            person_id=signer.person_id)
    return Signin(False, day, known[1], known[0], 0, 0,
                  current.balance + pending.owed_to(signer))


async def _next_rank(session: AsyncSession, group_id: int, day: date) -> int:
    rank = await session.scalar(_rank_statement(session),
                                {"group_id": group_id, "day": day, "count": 1})
    assert rank is not None
    return int(rank)


async def _claim(session: AsyncSession, signer: Signer, day: date, at: datetime, *, kind: str,
                 streak: int, points: int, source_event: str | None) -> int | None:
    """Insert the day's record (a sign-in's rank comes later); None if the day is taken."""
    record_id: int | None = await session.scalar(_claim_statement(session), {
        "org_id": signer.org_id, "community_id": signer.community_id,
        "person_id": signer.person_id, "group_id": signer.group_id, "day": day, "kind": kind,
        "rank": None, "streak": streak, "points": points, "at": at,
        "source_event": source_event})
    return record_id


async def _rejoin(session: AsyncSession, signer: Signer, day: date, streak: int) -> None:
    """`day` was just recorded with `streak`: the run of days right after it, which started
    anew the day after, now continues it."""
    later = list(await session.scalars(
        select(SigninRecord.day)
        .where(SigninRecord.community_id == signer.community_id,
               SigninRecord.person_id == signer.person_id, SigninRecord.day > day)
        .order_by(SigninRecord.day)))
    end = day
    for later_day in later:
        if later_day != end + timedelta(days=1):
            break
        end = later_day
    if end > day:
        await session.execute(
            update(SigninRecord)
            .where(SigninRecord.community_id == signer.community_id,
                   SigninRecord.person_id == signer.person_id,
                   SigninRecord.day > day, SigninRecord.day <= end)
            .values(streak=SigninRecord.streak + streak)
            .execution_options(synchronize_session=False))


async def _take_card(session: AsyncSession, signer: Signer, at: datetime) -> int:
    """Use one card; NoCard when none is held. The cards left."""
    held = await session.scalar(
        update(SigninCards)
        .where(SigninCards.community_id == signer.community_id,
               SigninCards.person_id == signer.person_id, SigninCards.held >= 1)
        .values(held=SigninCards.held - 1, used=SigninCards.used + 1, updated_at=at)
        .returning(SigninCards.held)
        .execution_options(synchronize_session=False))
    if held is None:
        raise NoCard()
    return int(held)
