"""The only code that writes challenges and check-ins. Services never commit.

A check-in is one row per person, challenge and local day (the primary key makes a second one
that day a no-op). Points go through the ledger with keys derived from the challenge, person
and day (daily points) or the challenge and person (the completion reward), so a replay or a
duplicate event never pays twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Membership, Person, PlatformAccount
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.core.errors import ErrorCollector, InvalidInput
from qunyun.core.i18n import N_
from qunyun.db.dialect import insert_for
from qunyun.features.challenge.models import (
    ACTIVE,
    PROOFS,
    STATUSES,
    Challenge,
    ChallengeCheckin,
)
from qunyun.points.service import do_award

DEFAULT_KEYWORD = "挑战打卡"  # not 打卡: the signin feature answers that by default
MAX_DAYS = 366
MAX_NAME = 100
MAX_KEYWORD = 16
MAX_DAILY_POINTS = 10_000
MAX_COMPLETION_POINTS = 1_000_000
MAX_TEXT = 500  # characters of a check-in's text kept


@dataclass(frozen=True, slots=True)
class ChallengeSpec:
    """What staff define; checked by `check_challenge`."""

    name: str
    start_day: date
    end_day: date
    keyword: str
    group_ids: tuple[int, ...] = ()  # empty: every group of the community
    proof: str = "none"
    reminder_hour: int | None = None
    daily_points: int = 0
    completion_points: int = 0
    required_days: int | None = None
    status: str = ACTIVE


@dataclass(frozen=True, slots=True)
class ChallengeInfo:
    """A challenge as handlers see it (plain values, safe to keep for a unit of work)."""

    id: int
    org_id: int
    community_id: int
    name: str
    group_ids: frozenset[int]
    start_day: date
    end_day: date
    keyword: str
    proof: str
    reminder_hour: int | None
    daily_points: int
    completion_points: int
    days: int
    days_to_complete: int

    def runs_in(self, group_id: int, community_id: int | None) -> bool:
        return community_id == self.community_id and (not self.group_ids
                                                      or group_id in self.group_ids)

    def day_number(self, day: date) -> int:
        return (day - self.start_day).days + 1


def info(row: Challenge) -> ChallengeInfo:
    return ChallengeInfo(row.id, row.org_id, row.community_id, row.name,
                         frozenset(row.group_ids or ()), row.start_day, row.end_day, row.keyword,
                         row.proof, row.reminder_hour, row.daily_points, row.completion_points,
                         row.days, row.days_to_complete)


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    new: bool  # False: already checked in that day
    days: int  # days checked in so far
    points: int = 0  # daily points credited by this check-in
    completed: bool = False  # this check-in completed the challenge
    bonus: int = 0  # completion points credited by this check-in


@dataclass(frozen=True, slots=True)
class BoardRow:
    person_id: int
    name: str
    days: int
    last_day: date


@dataclass(slots=True)
class Reminder:
    participants: int  # members of the group who have checked in at least once
    missing: list[tuple[str, str]] = field(default_factory=list)  # (platform id, name)


def check_challenge(spec: ChallengeSpec) -> None:
    """InvalidInput naming every field that is wrong; nothing is changed."""
    errors = ErrorCollector()
    if not spec.name.strip():
        errors.add("name", "must not be empty")
    elif len(spec.name) > MAX_NAME:
        errors.add("name", "must be at most {limit} characters", limit=MAX_NAME)
    days = (spec.end_day - spec.start_day).days + 1
    if days < 1:
        errors.add("end_day", N_("must not be before the start day"))
    elif days > MAX_DAYS:
        errors.add("end_day", N_("a challenge lasts at most {limit} days"), limit=MAX_DAYS)
    keyword = spec.keyword.strip()
    if not keyword or any(c.isspace() for c in keyword) or len(keyword) > MAX_KEYWORD:
        errors.add("keyword", N_("must be one word of 1 to {limit} characters without spaces"),
                   limit=MAX_KEYWORD)
    if spec.proof not in PROOFS:
        errors.add("proof", "must be one of: {choices}", choices=", ".join(PROOFS))
    if spec.status not in STATUSES:
        errors.add("status", "must be one of: {choices}", choices=", ".join(STATUSES))
    if spec.reminder_hour is not None and not 0 <= spec.reminder_hour <= 23:
        errors.add("reminder_hour", N_("must be an hour from 0 to 23"))
    _check_range(errors, "daily_points", spec.daily_points, 0, MAX_DAILY_POINTS)
    _check_range(errors, "completion_points", spec.completion_points, 0, MAX_COMPLETION_POINTS)
    if spec.required_days is not None and days >= 1:
        _check_range(errors, "required_days", spec.required_days, 1, days)
    if errors:
        raise InvalidInput(N_("the challenge is not valid"), errors=errors.errors)


def _check_range(errors: ErrorCollector, path: str, value: int, low: int, high: int) -> None:
    if value < low:
        errors.add(path, N_("must be at least {limit}"), limit=low)
    elif value > high:
        errors.add(path, "must be at most {limit}", limit=high)


async def do_create_challenge(session: AsyncSession, *, org_id: int, community_id: int,
                              spec: ChallengeSpec, actor: str, at: datetime) -> Challenge:
    check_challenge(spec)
    challenge = Challenge(org_id=org_id, community_id=community_id, created_by=actor,
                          created_at=at, **_values(spec), updated_at=at)
    session.add(challenge)
    await session.flush()
    return challenge


async def do_update_challenge(session: AsyncSession, *, challenge: Challenge,
                              spec: ChallengeSpec, at: datetime) -> Challenge:
    check_challenge(spec)
    for key, value in _values(spec).items():
        setattr(challenge, key, value)
    challenge.updated_at = at
    await session.flush()
    return challenge


def _values(spec: ChallengeSpec) -> dict[str, object]:
    return {"name": spec.name.strip(), "group_ids": sorted(set(spec.group_ids)),
            "start_day": spec.start_day, "end_day": spec.end_day,
            "keyword": spec.keyword.strip(), "proof": spec.proof,
            "reminder_hour": spec.reminder_hour, "daily_points": spec.daily_points,
            "completion_points": spec.completion_points, "required_days": spec.required_days,
            "status": spec.status}


async def live_challenges(session: AsyncSession, org_id: int,
                          since: date) -> list[ChallengeInfo]:
    """Active challenges of the organization that have not ended before `since`."""
    rows = await session.scalars(select(Challenge).where(
        Challenge.org_id == org_id, Challenge.status == ACTIVE, Challenge.end_day >= since)
        .order_by(Challenge.id))
    return [info(r) for r in rows]


async def get_challenge(session: AsyncSession, org_id: int, challenge_id: int) -> Challenge | None:
    found: Challenge | None = await session.scalar(select(Challenge).where(
        Challenge.org_id == org_id, Challenge.id == challenge_id))
    return found


async def do_checkin(session: AsyncSession, *, challenge: ChallengeInfo, person_id: int,
                     group_id: int, day: date, at: datetime, text: str = "",
                     image_url: str | None = None,
                     source_event: str | None = None) -> CheckinOutcome:
    """Record the day's check-in, credit the daily points and, on reaching the required days,
    the completion reward (once)."""
    inserted = await session.scalar(
        insert_for(session, ChallengeCheckin).values(
            challenge_id=challenge.id, person_id=person_id, day=day, group_id=group_id, at=at,
            source_event=source_event, text=text[:MAX_TEXT], image_url=image_url)
        .on_conflict_do_nothing(index_elements=["challenge_id", "person_id", "day"])
        .returning(ChallengeCheckin.day))
    days = await checked_days(session, challenge.id, person_id)
    if inserted is None:
        return CheckinOutcome(False, days)
    async def award(amount: int, reason: str, key: str) -> int:
        """`amount` if credited now, 0 when the key was paid before."""
        entry = await do_award(session, org_id=challenge.org_id,
                               community_id=challenge.community_id, person_id=person_id,
                               amount=amount, reason=reason, key=key, at=at,
                               source_event=source_event, group_id=group_id)
        return 0 if entry is None else amount

    points = 0
    if challenge.daily_points > 0:
        points = await award(challenge.daily_points, "challenge_checkin",
                             f"challenge:{challenge.id}:{person_id}:{day.isoformat()}")
    if days < challenge.days_to_complete:
        return CheckinOutcome(True, days, points)
    if challenge.completion_points > 0:
        bonus = await award(challenge.completion_points, "challenge_complete",
                            f"challenge:{challenge.id}:{person_id}:complete")
        # Paid before (the required days were lowered since): not completed again.
        return CheckinOutcome(True, days, points, bonus > 0, bonus)
    return CheckinOutcome(True, days, points, days == challenge.days_to_complete)


async def checked_days(session: AsyncSession, challenge_id: int, person_id: int) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(ChallengeCheckin).where(
            ChallengeCheckin.challenge_id == challenge_id,
            ChallengeCheckin.person_id == person_id)) or 0)


async def board(session: AsyncSession, challenge_id: int, *, limit: int = 10,
                offset: int = 0) -> list[BoardRow]:
    """Who has checked in how many days, most first (the earlier starter first on a tie)."""
    days = func.count().label("days")
    rows = await session.execute(
        select(ChallengeCheckin.person_id, Person.display_name, days,
               func.max(ChallengeCheckin.day))
        .join(Person, Person.id == ChallengeCheckin.person_id)
        .where(ChallengeCheckin.challenge_id == challenge_id)
        .group_by(ChallengeCheckin.person_id, Person.display_name)
        .order_by(days.desc(), func.min(ChallengeCheckin.at), ChallengeCheckin.person_id)
        .limit(limit).offset(offset))
    return [BoardRow(pid, name, int(n), last) for pid, name, n, last in rows]


async def participant_count(session: AsyncSession, challenge_id: int) -> int:
    return int(await session.scalar(
        select(func.count(func.distinct(ChallengeCheckin.person_id)))
        .where(ChallengeCheckin.challenge_id == challenge_id)) or 0)


async def participant_counts(session: AsyncSession, challenge_ids: list[int]) -> dict[int, int]:
    if not challenge_ids:
        return {}
    rows = await session.execute(
        select(ChallengeCheckin.challenge_id, func.count(func.distinct(ChallengeCheckin.person_id)))
        .where(ChallengeCheckin.challenge_id.in_(challenge_ids))
        .group_by(ChallengeCheckin.challenge_id))
    return {cid: int(n) for cid, n in rows}


async def daily_counts(session: AsyncSession, challenge_id: int) -> dict[date, int]:
    rows = await session.execute(
        select(ChallengeCheckin.day, func.count()).where(
            ChallengeCheckin.challenge_id == challenge_id).group_by(ChallengeCheckin.day))
    return {day: int(n) for day, n in rows}


async def checkins_on(session: AsyncSession, challenge_id: int,
                      day: date) -> list[tuple[ChallengeCheckin, str]]:
    rows = await session.execute(
        select(ChallengeCheckin, Person.display_name)
        .join(Person, Person.id == ChallengeCheckin.person_id)
        .where(ChallengeCheckin.challenge_id == challenge_id, ChallengeCheckin.day == day)
        .order_by(ChallengeCheckin.at, ChallengeCheckin.person_id))
    return [(checkin, name) for checkin, name in rows]


async def reminder(session: AsyncSession, *, challenge_id: int, group_id: int, platform: str,
                   day: date) -> Reminder:
    """The group's participants (members who checked in at least once) and, of them, those
    without a check-in on `day`, with their platform ids for mentions."""
    joined = select(ChallengeCheckin.person_id).where(
        ChallengeCheckin.challenge_id == challenge_id).distinct()
    done = select(ChallengeCheckin.person_id).where(
        ChallengeCheckin.challenge_id == challenge_id, ChallengeCheckin.day == day)
    rows = (await session.execute(
        select(Membership.person_id, PlatformAccount.platform_user_id, Person.display_name,
               Membership.person_id.in_(done))
        .join(Person, Person.id == Membership.person_id)
        .join(PlatformAccount, (PlatformAccount.person_id == Membership.person_id)
              & (PlatformAccount.platform == platform))
        .where(Membership.group_id == group_id, Membership.status == MEMBERSHIP_ACTIVE,
               Membership.person_id.in_(joined))
        .order_by(Membership.person_id, PlatformAccount.id))).all()
    result = Reminder(0)
    seen: set[int] = set()
    for person_id, platform_id, name, checked_in in rows:
        if person_id in seen:
            continue
        seen.add(person_id)
        result.participants += 1
        if not checked_in:
            result.missing.append((platform_id, name or platform_id))
    return result
