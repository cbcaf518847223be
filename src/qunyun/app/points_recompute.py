"""Recompute the rule points (message, reaction, invite) of a community from its event history.

The event log is read in order and turned into the facts the live feature sees (the same
membership bookkeeping as the pipeline: a join counts when it opens a period), then the pure
rules of `qunyun.features.points.rules` run over them. The result is compared per member with
what the ledger holds for those reasons (plus earlier corrections, reason `recompute`); applying
writes one correcting entry per member, never deleting. A correction that would take more than
the balance takes what is there; the rest is reported as a shortfall and stays owing (a later
recompute tries again).

The rules given (a settings file, or each group's current settings) apply as if they had always
been in force, over the whole history up to `until`.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal
from qunyun.community.audit import do_record
from qunyun.community.models import Group, Person, PlatformAccount
from qunyun.community.settings import GroupScope
from qunyun.core import events as E
from qunyun.core.config import pydantic_errors
from qunyun.core.errors import InvalidInput, NotFound
from qunyun.core.features import FeatureRegistry
from qunyun.features.points.rules import (
    RULE_REASONS,
    Award,
    AwardReplay,
    Fact,
    InviteFact,
    LeaveFact,
    ReactionFact,
    Where,
    message_fact,
)
from qunyun.features.points.settings import PointsSettings
from qunyun.pipeline.models import EventRecord
from qunyun.pipeline.settings_cache import SettingsCache
from qunyun.points import service as ledger
from qunyun.points.models import PointsEntry

RECOMPUTE = "recompute"
PAGE = 2000
LEDGER_REASONS = (*RULE_REASONS, RECOMPUTE)


@dataclass(frozen=True, slots=True)
class GroupRules:
    settings: PointsSettings
    timezone: str


@dataclass(slots=True)
class MemberDiff:
    person_id: int
    name: str
    current: int  # rule points in the ledger (with earlier corrections)
    recomputed: int
    by_reason: dict[str, int] = field(default_factory=dict)  # recomputed, per reason

    @property
    def difference(self) -> int:
        return self.recomputed - self.current

    def as_dict(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "name": self.name, "current": self.current,
                "recomputed": self.recomputed, "difference": self.difference,
                "by_reason": self.by_reason}


@dataclass(slots=True)
class RecomputePlan:
    community_id: int
    until: datetime
    members: list[MemberDiff]  # those with a difference, by person id
    current_total: int
    recomputed_total: int

    def as_dict(self) -> dict[str, Any]:
        return {"community_id": self.community_id, "until": self.until.isoformat(),
                "current_total": self.current_total, "recomputed_total": self.recomputed_total,
                "members": [m.as_dict() for m in self.members]}


@dataclass(frozen=True, slots=True)
class Applied:
    person_id: int
    difference: int
    applied: int
    shortfall: int  # what a negative correction could not take


# --- settings ------------------------------------------------------------------------------

def settings_from_toml(text: str, path: str = "settings") -> PointsSettings:
    """Points settings from TOML: a `[features.points]` table (a playbook works) or the keys
    at the top level, over the defaults; switched on."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("{path} is not valid TOML: {reason}", path=path,
                           reason=str(exc)) from exc
    features = document.get("features")
    table = features.get("points", {}) if isinstance(features, dict) else document
    if not isinstance(table, dict):
        raise InvalidInput("{path}: [features.points] must be a table", path=path)
    values = {k: v for k, v in table.items() if k not in ("version", "name", "community")}
    try:
        return PointsSettings.model_validate({**values, "enabled": True})
    except ValidationError as exc:
        raise InvalidInput("invalid settings in {path}", path=path,
                           errors=pydantic_errors(exc, prefix="features.points")) from exc


def settings_from_file(path: Path) -> PointsSettings:
    if not path.is_file():
        raise NotFound("no such file: {path}", path=str(path))
    return settings_from_toml(path.read_text(encoding="utf-8"), str(path))


async def group_rules(session: AsyncSession, registry: FeatureRegistry, *, org_id: int,
                      community_id: int,
                      override: PointsSettings | None = None) -> dict[int, GroupRules]:
    """The rules of each group of the community: `override` for all, or the group's own."""
    cache = SettingsCache(registry)
    await cache.refresh(session, org_id)
    groups = (await session.execute(
        select(Group.id, Group.playbook_id).where(Group.org_id == org_id,
                                                  Group.community_id == community_id))).all()
    found = {}
    for group_id, playbook_id in groups:
        effective = cache.for_group(GroupScope(org_id, community_id, playbook_id, group_id))
        own = effective.features.get("points")
        settings = override or (own if isinstance(own, PointsSettings) else PointsSettings())
        found[group_id] = GroupRules(settings, effective.community.timezone)
    return found


# --- the event history as facts ------------------------------------------------------------

@dataclass
class _Reader:
    """Event rows → facts, with the pipeline's membership bookkeeping."""

    session: AsyncSession
    org_id: int
    community_id: int
    rules: Mapping[int, GroupRules]
    open: set[tuple[int, int]] = field(default_factory=set)  # (group, person) inside

    async def facts(self, until: datetime) -> AsyncIterator[Fact]:
        after = 0
        while True:
            rows = (await self.session.execute(
                select(EventRecord.seq, EventRecord.type, EventRecord.platform,
                       EventRecord.external_id, EventRecord.group_id, EventRecord.person_id,
                       EventRecord.at, EventRecord.imported, EventRecord.body)
                .where(EventRecord.org_id == self.org_id, EventRecord.seq > after,
                       EventRecord.group_id.in_(sorted(self.rules)), EventRecord.at <= until)
                .order_by(EventRecord.seq).limit(PAGE))).all()
            if not rows:
                return
            authors = await self._authors(rows)
            inviters = await self._inviters(rows)
            for row in rows:
                for fact in self._facts_of(row, authors, inviters):
                    yield fact
            after = rows[-1].seq

    def _facts_of(self, row: Any, authors: dict[int, int],
                  inviters: dict[tuple[str, str], int]) -> list[Fact]:
        group_id, person_id = row.group_id, row.person_id
        if row.type == E.GROUP_DISMISSED:
            self.open = {key for key in self.open if key[0] != group_id}
            return [LeaveFact(group_id, None, row.at)]
        if person_id is None:
            return []
        key = (group_id, person_id)
        if row.type == E.MEMBER_LEFT:
            self.open.discard(key)
            return [LeaveFact(group_id, person_id, row.at)]
        new = key not in self.open
        self.open.add(key)
        if row.imported or row.type not in (E.MESSAGE_POSTED, E.REACTION_ADDED,
                                            E.MEMBER_JOINED):
            return []
        rules = self.rules[group_id]
        where = Where(self.org_id, self.community_id, group_id, row.at, rules.timezone,
                      f"{row.platform}:{row.external_id}")
        data = orjson.loads(row.body).get("data", {})
        if row.type == E.MESSAGE_POSTED:
            fact = message_fact(where, person_id, str(data.get("text") or ""), rules.settings)
            return [fact] if fact else []
        if row.type == E.REACTION_ADDED:
            author = authors.get(row.seq)
            if author is None or author == person_id or rules.settings.reaction_points <= 0:
                return []
            return [ReactionFact(where, author, person_id, str(data["message_id"]))]
        inviter = inviters.get((row.platform, str(data.get("inviter") or "")))
        if not new or inviter is None:
            return []
        return [InviteFact(where, inviter, person_id)]

    async def _authors(self, rows: Sequence[Any]) -> dict[int, int]:
        """{reaction's seq: author of the reacted message} — the latest message with that id in
        the group before the reaction, as `FeatureContext.find_message` finds it."""
        wanted: dict[int, tuple[int, str]] = {}
        for row in rows:
            if row.type == E.REACTION_ADDED and not row.imported:
                message_id = orjson.loads(row.body).get("data", {}).get("message_id")
                if isinstance(message_id, str):
                    wanted[row.seq] = (row.group_id, message_id)
        if not wanted:
            return {}
        found = await self.session.execute(
            select(EventRecord.seq, EventRecord.group_id, EventRecord.message_ref,
                   EventRecord.person_id)
            .where(EventRecord.group_id.in_({g for g, _ in wanted.values()}),
                   EventRecord.message_ref.in_({m for _, m in wanted.values()})))
        posted: dict[tuple[int, str], list[tuple[int, int]]] = {}
        for seq, group_id, ref, person_id in found:
            if person_id is not None and group_id is not None and ref is not None:
                posted.setdefault((group_id, ref), []).append((seq, person_id))
        authors = {}
        for seq, key in wanted.items():
            earlier = [item for item in posted.get(key, []) if item[0] < seq]
            if earlier:
                authors[seq] = max(earlier)[1]
        return authors

    async def _inviters(self, rows: Sequence[Any]) -> dict[tuple[str, str], int]:
        wanted: dict[str, set[str]] = {}
        for row in rows:
            if row.type == E.MEMBER_JOINED and not row.imported:
                inviter = orjson.loads(row.body).get("data", {}).get("inviter")
                if isinstance(inviter, str):
                    wanted.setdefault(row.platform, set()).add(inviter)
        found: dict[tuple[str, str], int] = {}
        for platform, users in sorted(wanted.items()):
            accounts = await self.session.execute(
                select(PlatformAccount.platform_user_id, PlatformAccount.person_id)
                .where(PlatformAccount.org_id == self.org_id,
                       PlatformAccount.platform == platform,
                       PlatformAccount.platform_user_id.in_(sorted(users))))
            found.update({(platform, user): person for user, person in accounts})
        return found


# --- the plan and applying it --------------------------------------------------------------

async def plan_recompute(session: AsyncSession, registry: FeatureRegistry, *, org_id: int,
                         community_id: int, until: datetime,
                         override: PointsSettings | None = None) -> RecomputePlan:
    """What the rules give each member over the history up to `until`, against the ledger."""
    rules = await group_rules(session, registry, org_id=org_id, community_id=community_id,
                              override=override)
    recomputed: dict[int, Counter[str]] = {}

    def give(award: Award) -> None:
        recomputed.setdefault(award.person_id, Counter())[award.reason] += award.amount

    replay = AwardReplay(lambda group_id: rules[group_id].settings, give)
    reader = _Reader(session, org_id, community_id, rules)
    async for fact in reader.facts(until):
        replay.feed(fact)
    replay.finish(until)
    current = await _ledger_totals(session, community_id, until)
    people = sorted(p for p in recomputed.keys() | current.keys()
                    if sum(recomputed.get(p, Counter()).values()) != current.get(p, 0))
    names = await _names(session, people)
    members = [MemberDiff(p, names.get(p, ""), current.get(p, 0),
                          sum(recomputed.get(p, Counter()).values()),
                          dict(sorted(recomputed.get(p, Counter()).items())))
               for p in people]
    return RecomputePlan(community_id, until, members, sum(current.values()),
                         sum(sum(c.values()) for c in recomputed.values()))


async def _ledger_totals(session: AsyncSession, community_id: int,
                         until: datetime) -> dict[int, int]:
    rows = await session.execute(
        select(PointsEntry.person_id, func.sum(PointsEntry.amount))
        .where(PointsEntry.community_id == community_id,
               PointsEntry.reason.in_(LEDGER_REASONS), PointsEntry.created_at <= until)
        .group_by(PointsEntry.person_id))
    return {person: int(total or 0) for person, total in rows}


async def _names(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(person_ids), PAGE):
        rows = await session.execute(select(Person.id, Person.display_name)
                                     .where(Person.id.in_(person_ids[start:start + PAGE])))
        found.update({person_id: name for person_id, name in rows})
    return found


async def do_apply_recompute(session: AsyncSession, plan: RecomputePlan, *, org_id: int,
                             principal: Principal, at: datetime) -> list[Applied]:
    """Write one correcting entry per member of the plan (reason `recompute`) and audit it.
    The caller commits."""
    done = []
    for member in plan.members:
        done.append(await _correct(session, plan, member, org_id, principal.actor, at))
    await do_record(session, principal=principal, action="points.recompute",
                    target_type="community", target_id=plan.community_id,
                    before={"rule_points": plan.current_total},
                    after={"rule_points": plan.recomputed_total,
                           "members": len(done), "applied": sum(a.applied for a in done),
                           "shortfall": sum(a.shortfall for a in done)}, at=at)
    return done


async def _correct(session: AsyncSession, plan: RecomputePlan, member: MemberDiff,
                   org_id: int, actor: str, at: datetime) -> Applied:
    amount = member.difference
    if amount < 0:
        have = (await ledger.balance(session, community_id=plan.community_id,
                                     person_id=member.person_id)).balance
        amount = -min(have, -amount)
    if amount:
        await ledger.do_adjust(
            session, org_id=org_id, community_id=plan.community_id,
            person_id=member.person_id, amount=amount, actor=actor, reason=RECOMPUTE,
            note=f"{member.current} → {member.recomputed}", at=at,
            key=f"points:{RECOMPUTE}:{plan.community_id}:{member.person_id}:"
                f"{member.current}:{member.recomputed}")
    return Applied(member.person_id, member.difference, amount, amount - member.difference)
