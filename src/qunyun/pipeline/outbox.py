"""The outbox: actions written in the same transaction as the event that caused them.

An action the target platform cannot perform is written as a staff task instead: a to-do for
the group's owner or assistant with the content ready to copy. Nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Membership
from qunyun.community.roles import MEMBERSHIP_ACTIVE, TASK_ASSIGNEE_ROLES
from qunyun.core import actions as A
from qunyun.core.actions import Action
from qunyun.core.i18n import N_, gettext
from qunyun.pipeline.models import ActionRecord, StaffTask

PENDING = "pending"
DISPATCHED = "dispatched"
DONE = "done"
FAILED = "failed"
TASK = "task"
SKIPPED = "skipped"  # replayed or imported history: recorded, never delivered


@dataclass(slots=True)
class OutboxEntry:
    action: Action
    org_id: int
    group_id: int | None
    feature: str
    created_at: datetime
    status: str
    locale: str


@dataclass
class Outbox:
    """Actions of one unit of work, written together before commit."""

    entries: list[OutboxEntry] = field(default_factory=list)

    def add(self, entry: OutboxEntry) -> None:
        self.entries.append(entry)

    async def write(self, session: AsyncSession) -> None:
        if not self.entries:
            return
        rows = [_row(e) for e in self.entries]
        await session.execute(insert(ActionRecord), rows)
        tasks = [e for e in self.entries if e.status == TASK]
        if tasks:
            await _create_tasks(session, tasks)
        self.entries = []


def _row(entry: OutboxEntry) -> dict[str, Any]:
    a = entry.action
    return {"id": a.id, "org_id": entry.org_id, "group_id": entry.group_id,
            "platform": a.platform, "group_pid": a.group, "member_pid": a.member,
            "type": a.type, "data": dict(a.data), "caused_by": a.caused_by,
            "feature": entry.feature, "status": entry.status, "attempts": 0,
            "next_attempt_at": None, "last_error": None, "created_at": entry.created_at,
            "finished_at": None}


async def _create_tasks(session: AsyncSession, entries: list[OutboxEntry]) -> None:
    seqs = dict((await session.execute(
        select(ActionRecord.id, ActionRecord.seq)
        .where(ActionRecord.id.in_([e.action.id for e in entries])))).all())
    for entry in entries:
        await create_task(session, entry.org_id, entry.group_id, seqs[entry.action.id],
                          entry.action, entry.created_at, entry.locale,
                          reason=N_("the platform cannot perform this action"))


async def create_task(session: AsyncSession, org_id: int, group_id: int | None, action_seq: int,
                      action: Action, at: datetime, locale: str, *, reason: str) -> StaffTask:
    role, person_id = await _assignee(session, group_id)
    task = StaffTask(org_id=org_id, group_id=group_id, action_seq=action_seq, kind=action.type,
                     content=task_content(action.type, action.data, action.member, locale),
                     assignee_role=role, assignee_person_id=person_id, reason=reason,
                     status="open", created_at=at)
    session.add(task)
    await session.flush()
    return task


async def _assignee(session: AsyncSession, group_id: int | None) -> tuple[str | None, int | None]:
    """The group's assistant if it has one, else its owner, admin or guide."""
    if group_id is None:
        return None, None
    rows = (await session.execute(
        select(Membership.role, Membership.person_id)
        .where(Membership.group_id == group_id, Membership.status == MEMBERSHIP_ACTIVE,
               Membership.role.in_(TASK_ASSIGNEE_ROLES)))).all()
    by_role = {role: person for role, person in sorted(rows, key=lambda r: r[1], reverse=True)}
    for role in TASK_ASSIGNEE_ROLES:
        if role in by_role:
            return role, by_role[role]
    return None, None


def task_content(kind: str, data: Mapping[str, Any], member: str | None, locale: str) -> str:
    """What the staff member should do, in their language, with text ready to copy."""
    who = member or ""
    if kind in (A.SEND_MESSAGE, A.SEND_PRIVATE_MESSAGE, A.SET_ANNOUNCEMENT):
        intro = {
            A.SEND_MESSAGE: N_("Post this message in the group:"),
            A.SEND_PRIVATE_MESSAGE: N_("Send this private message to {member}:"),
            A.SET_ANNOUNCEMENT: N_("Set this as the group announcement:"),
        }[kind]
        return gettext(intro, locale, member=who) + "\n\n" + str(data.get("text", ""))
    if kind == A.DELETE_MESSAGE:
        return gettext("Delete message {message_id} in the group.", locale,
                       message_id=data.get("message_id", ""))
    if kind == A.MUTE_MEMBER:
        seconds = int(data.get("seconds", 0))
        if seconds == 0:
            return gettext("Unmute member {member}.", locale, member=who)
        return gettext("Mute member {member} for {seconds} seconds.", locale, member=who,
                       seconds=seconds)
    if kind == A.KICK_MEMBER:
        if data.get("block"):
            return gettext("Remove member {member} from the group and block re-entry.", locale,
                           member=who)
        return gettext("Remove member {member} from the group.", locale, member=who)
    if kind == A.MUTE_ALL:
        key = N_("Turn on mute-all in the group.") if data.get("on") else \
            N_("Turn off mute-all in the group.")
        return gettext(key, locale)
    return gettext("Perform action {kind} in the group.", locale, kind=kind)
