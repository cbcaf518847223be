"""The only code that writes moderation's state: cases, the flood memory, the classifier.

Services never commit and take the time from the caller. A case is unique per organization and
offending event (`do_open_case` returns None for an event already punished), so the same event
twice is punished once. Undoing a case returns the actions that undo its effects; the caller
delivers them (a handler emits them, the dashboard schedules a job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.blacklist import BlacklistEntry, find_blacklisted, subscribed_sources
from qunyun.core.actions import MUTE_MEMBER, ActionRequest
from qunyun.core.errors import Conflict, NotFound
from qunyun.core.i18n import N_
from qunyun.db.dialect import insert_for
from qunyun.features.moderation.classifier import SpamClassifier, message_features
from qunyun.features.moderation.ladder import MUTE, parse_step
from qunyun.features.moderation.models import (
    APPLIED,
    OVERTURNED,
    UNDONE,
    ModerationCase,
    ModerationClassifier,
    ModerationRecent,
)
from qunyun.features.moderation.rules import MAX_FLOOD_WINDOW, flood_counts
from qunyun.features.moderation.settings import FloodRule

# Cases of these rules or actions are not the member's own offences: they never count for the
# ladder (the kick chain's links, review flags).
NOT_OFFENCES_RULES = ("kick_chain",)
FLAG = "flag"


@dataclass(frozen=True, slots=True)
class CaseSpec:
    """What an offence is: who, where, which message, which rule caught what, what was done."""

    org_id: int
    community_id: int | None
    group_id: int | None
    person_id: int | None
    event_id: str  # "<platform>:<event id>"
    message_id: str
    text: str
    rule: str
    category: str
    detail: dict[str, Any]
    action: str
    at: datetime


async def live_offences(session: AsyncSession, *, person_id: int,
                        since: datetime | None) -> int:
    """The member's offences that count for the ladder: standing, their own, not decayed."""
    query = select(func.count()).select_from(ModerationCase).where(
        ModerationCase.person_id == person_id, ModerationCase.status == APPLIED,
        ModerationCase.rule.not_in(NOT_OFFENCES_RULES), ModerationCase.action != FLAG)
    if since is not None:
        query = query.where(ModerationCase.at >= since)
    return int(await session.scalar(query) or 0)


async def do_open_case(session: AsyncSession, *, spec: CaseSpec,
                       warnings: int) -> ModerationCase | None:
    """Record the case; None when this event was already punished (nothing is written)."""
    case_id = await session.scalar(
        insert_for(session, ModerationCase).values(
            org_id=spec.org_id, community_id=spec.community_id, group_id=spec.group_id,
            person_id=spec.person_id, event_id=spec.event_id, message_id=spec.message_id,
            text=spec.text, rule=spec.rule, category=spec.category[:64], detail=spec.detail,
            action=spec.action, warnings=warnings, at=spec.at, status=APPLIED)
        .on_conflict_do_nothing(index_elements=["org_id", "event_id"])
        .returning(ModerationCase.id))
    if case_id is None:
        return None
    return await session.get(ModerationCase, case_id)


@dataclass(slots=True)
class FloodMemory:
    """The flood memory of one unit of work: each member's remembered messages, read once, and
    the new ones, written together before commit (`do_write_recent`)."""

    loaded: dict[int, list[tuple[datetime, int, str]]] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)
    latest: dict[int, datetime] = field(default_factory=dict)  # per organization


async def note_recent(session: AsyncSession, memory: FloodMemory, *, org_id: int,
                      person_id: int, group_id: int, at: datetime, fingerprint: str,
                      flood: FloodRule) -> tuple[int, int]:
    """Remember this message; (the member's messages in this group within the flood window,
    groups with the same text within its window), this message included."""
    rows = memory.loaded.get(person_id)
    if rows is None:
        found = await session.execute(
            select(ModerationRecent.at, ModerationRecent.group_id, ModerationRecent.fingerprint)
            .where(ModerationRecent.person_id == person_id,
                   ModerationRecent.at > at - MAX_FLOOD_WINDOW))
        rows = memory.loaded[person_id] = [(r.at, r.group_id, r.fingerprint) for r in found]
    rows.append((at, group_id, fingerprint))
    memory.pending.append({"org_id": org_id, "person_id": person_id, "group_id": group_id,
                           "at": at, "fingerprint": fingerprint})
    memory.latest[org_id] = max(at, memory.latest.get(org_id, at))
    return flood_counts(rows, group_id=group_id, at=at, fingerprint=fingerprint, flood=flood)


async def do_write_recent(session: AsyncSession, memory: FloodMemory) -> None:
    """Write the unit of work's remembered messages; drop those older than any flood window."""
    for org_id, latest in memory.latest.items():
        await session.execute(delete(ModerationRecent).where(
            ModerationRecent.org_id == org_id, ModerationRecent.at < latest - MAX_FLOOD_WINDOW))
    if memory.pending:
        await session.execute(insert(ModerationRecent), memory.pending)
    memory.pending, memory.latest = [], {}


# --- the blacklist, read once per unit of work ---------------------------------------------------

@dataclass(slots=True)
class BlacklistView:
    """An organization's own standing blacklist entries (person → expiry times, None: never)
    and whether it reads other organizations' shared lists."""

    expiry: dict[int, list[datetime | None]]
    subscribes: bool

    def bars(self, person_id: int, at: datetime) -> bool:
        return any(e is None or e > at for e in self.expiry.get(person_id, ()))


async def load_blacklist(session: AsyncSession, org_id: int) -> BlacklistView:
    rows = await session.execute(select(BlacklistEntry.person_id, BlacklistEntry.expires_at)
                                 .where(BlacklistEntry.org_id == org_id,
                                        BlacklistEntry.removed_at.is_(None)))
    expiry: dict[int, list[datetime | None]] = {}
    for person_id, expires_at in rows:
        expiry.setdefault(person_id, []).append(expires_at)
    return BlacklistView(expiry, bool(await subscribed_sources(session, org_id=org_id)))


async def is_blacklisted(session: AsyncSession, view: BlacklistView, *, org_id: int,
                         person_id: int, at: datetime) -> bool:
    """Own entries from the view; shared lists (matched by platform account) asked only when
    the organization subscribes to some."""
    if view.bars(person_id, at):
        return True
    if not view.subscribes:
        return False
    return await find_blacklisted(session, org_id=org_id, person_id=person_id,
                                  at=at) is not None


# --- the classifier -------------------------------------------------------------------------

async def load_classifier(session: AsyncSession, org_id: int) -> SpamClassifier | None:
    row = await session.get(ModerationClassifier, org_id)
    return SpamClassifier.from_json(row.model) if row is not None and row.model else None


async def do_learn(session: AsyncSession, *, org_id: int, features: list[str], spam: bool,
                   at: datetime, reverse: bool = False) -> None:
    """Teach the organization's classifier one example; `reverse`: the example had been taught
    as the other class before (a decision reversed), so it is unlearned from there first."""
    row = await session.get(ModerationClassifier, org_id)
    if row is None:
        row = ModerationClassifier(org_id=org_id, model={}, spam_examples=0, ham_examples=0,
                                   updated_at=at)
        session.add(row)
    model = SpamClassifier.from_json(row.model) if row.model else SpamClassifier()
    if reverse:
        model.unlearn(features, spam=not spam)
        if spam:
            row.ham_examples = max(0, row.ham_examples - 1)
        else:
            row.spam_examples = max(0, row.spam_examples - 1)
    model.learn(features, spam=spam)
    if spam:
        row.spam_examples += 1
    else:
        row.ham_examples += 1
    row.model = model.to_json()
    row.updated_at = at
    await session.flush()


def case_features(case: ModerationCase) -> list[str]:
    """The classifier's view of a case's message, as it was when the case was opened."""
    detail = case.detail or {}
    urls = [str(u) for u in detail.get("urls", [])]
    return message_features(case.text, newcomer=bool(detail.get("newcomer")), urls=urls)


# --- undoing --------------------------------------------------------------------------------

async def do_undo_case(session: AsyncSession, *, case_id: int, actor: str, at: datetime,
                       overturned: bool) -> list[ActionRequest]:
    """Undo a standing case (staff: UNDONE; an appeal upheld: OVERTURNED), teach the classifier
    that the message was ham, and return the actions that undo its effects (an unmute).
    A kick cannot be undone by a bot: the member may be invited back."""
    case = await session.get(ModerationCase, case_id)
    if case is None:
        raise NotFound(N_("no such moderation case: {id}"), id=case_id)
    if case.status != APPLIED:
        raise Conflict(N_("this case was already undone"))
    case.status = OVERTURNED if overturned else UNDONE
    case.resolved_by = actor
    case.resolved_at = at
    detail = case.detail or {}
    if case.text.strip() and case.rule not in NOT_OFFENCES_RULES:
        await do_learn(session, org_id=case.org_id, features=case_features(case), spam=False,
                       at=at, reverse=bool(detail.get("learned")))
    await session.flush()
    return undo_actions(case)


def undo_actions(case: ModerationCase) -> list[ActionRequest]:
    member = (case.detail or {}).get("member")
    group = (case.detail or {}).get("group")
    actions: list[ActionRequest] = []
    for part in case.action.split("+"):
        if part.startswith(MUTE) and member:
            parse_step(part)
            actions.append(ActionRequest(MUTE_MEMBER, {"seconds": 0}, member=str(member),
                                         group=str(group) if group else None))
    return actions
