"""What happens in a playground group, as canonical events: members join (or ask to join) and
speak, and the playground answers a kick and an approved join request the way a real platform
does (the member leaves; the applicant enters).

The operator's acts enter through the real pipeline (`runtime.pipeline.ingest`), with time from
the runtime's clock; once accepted they are published to the group's live feed.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Group, Membership, PlatformAccount
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.core import actions as A
from qunyun.core import events as E
from qunyun.core.actions import Action
from qunyun.core.errors import ErrorCollector, FieldError, InvalidInput
from qunyun.core.events import PROTOCOL_VERSION
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.runner import REJECTED
from qunyun.web.playground.feed import KICK_EVENT_PREFIX
from qunyun.web.playground.room import group_muted, is_member, load_room, muted_until

PLATFORM = "playground"
NAME_MAX = 40
TEXT_MAX = 2000
MESSAGE_ID_MAX = 200
PLAYGROUND_ROLES = ("admin", "member")
_MENTION = re.compile(r"@(\S+)")


def new_group_id() -> str:
    return f"pg-{secrets.token_hex(6)}"


def new_member_id() -> str:
    return f"pm-{secrets.token_hex(5)}"


def _event(runtime: Runtime, kind: str, group: Group, member: str,
           data: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": event_id or f"pe-{secrets.token_hex(8)}", "type": kind,
            "platform": group.platform, "group": group.platform_id, "member": member,
            "at": runtime.clock.now().isoformat(), "data": data}


async def join(runtime: Runtime, group: Group, name: str) -> str:
    """A new simulated member joins `group`; returns the member's platform id."""
    name = " ".join(name.split())
    errors = ErrorCollector()
    if not name:
        errors.add("name", "a member needs a name")
    elif len(name) > NAME_MAX:
        errors.add("name", "must be at most {limit} characters", limit=NAME_MAX)
    if errors:
        raise InvalidInput("the member cannot be added", errors=errors.errors)
    member = new_member_id()
    await _ingest(runtime, group, _event(runtime, E.MEMBER_JOINED, group, member,
                                         {"name": name, "via": "other"}), name)
    return member


async def apply(runtime: Runtime, group: Group, name: str, answers: dict[str, str], *,
                code: str = "", inviter: str = "") -> str:
    """A new simulated person asks to join `group` (a join request with questionnaire answers,
    an invite code, an inviter); the gate decides. Returns the applicant's platform id."""
    name = " ".join(name.split())
    errors = ErrorCollector()
    if not name:
        errors.add("name", "a member needs a name")
    elif len(name) > NAME_MAX:
        errors.add("name", "must be at most {limit} characters", limit=NAME_MAX)
    for question, answer in answers.items():
        if len(answer) > TEXT_MAX:
            errors.add(f"answers.{question}", "must be at most {limit} characters",
                       limit=TEXT_MAX)
    if errors:
        raise InvalidInput("the request was not sent", errors=errors.errors)
    member = new_member_id()
    data: dict[str, Any] = {"request_id": f"pr-{secrets.token_hex(6)}", "name": name,
                            "answers": {q: a.strip() for q, a in answers.items()}}
    if code.strip():
        data["code"] = code.strip()[:200]
    if inviter.strip():
        data["inviter"] = inviter.strip()[:200]
        data["via"] = "invite"
    await _ingest(runtime, group, _event(runtime, E.MEMBER_JOIN_REQUESTED, group, member, data),
                  name)
    return member


async def post(runtime: Runtime, session: AsyncSession, group: Group, member: str,
               text: str, reply_to: str = "") -> None:
    """`member` says `text` in `group` (as a reply to message `reply_to`, if given), unless the
    group refuses it (not a member, muted)."""
    text = text.strip()
    name = await check_may_post(runtime, session, group, member, text)
    data: dict[str, Any] = {"message_id": f"pm-{secrets.token_hex(8)}", "kind": "text",
                            "text": text, "name": name}
    if reply_to := reply_to.strip():
        data["reply_to"] = _message_ref(reply_to)
    if mentions := await _mentions(runtime, session, group, text, member):
        data["mentions"] = mentions
    await session.commit()  # end the read: the pipeline writes in its own unit of work
    await _ingest(runtime, group, _event(runtime, E.MESSAGE_POSTED, group, member, data), name)


async def react(runtime: Runtime, session: AsyncSession, group: Group, member: str,
                message_id: str, emoji: str = "👍") -> None:
    """`member` reacts to a message of the group (likes count for points)."""
    name = await is_member(session, group, member) if member else None
    if name is None:
        raise InvalidInput("the reaction was not sent",
                           errors=[_field("member", "choose a member of this group")])
    data = {"message_id": _message_ref(message_id), "emoji": emoji}
    await session.commit()  # end the read: the pipeline writes in its own unit of work
    await _ingest(runtime, group, _event(runtime, E.REACTION_ADDED, group, member, data), name)


async def set_role(session: AsyncSession, group: Group, member: str, role: str) -> str:
    """Make a member an admin of the group or an ordinary member again, as the platform's
    owner would; returns the member's name. The pipeline reads roles from memberships."""
    errors = ErrorCollector()
    if role not in PLAYGROUND_ROLES:
        errors.add("role", "must be one of: {choices}", choices=", ".join(PLAYGROUND_ROLES))
    name = await is_member(session, group, member) if member else None
    if name is None:
        errors.add("member", "choose a member of this group")
    if errors or name is None:
        raise InvalidInput("the role was not changed", errors=errors.errors)
    person_id = select(PlatformAccount.person_id).where(
        PlatformAccount.org_id == group.org_id, PlatformAccount.platform == group.platform,
        PlatformAccount.platform_user_id == member).scalar_subquery()
    await session.execute(update(Membership).where(
        Membership.group_id == group.id, Membership.status == MEMBERSHIP_ACTIVE,
        Membership.person_id == person_id).values(role=role))
    return name


def _message_ref(message_id: str) -> str:
    if len(message_id) > MESSAGE_ID_MAX:
        raise InvalidInput("the message was not sent",
                           errors=[_field("reply_to", "must be at most {limit} characters",
                                          limit=MESSAGE_ID_MAX)])
    return message_id


def _field(path: str, reason: str, **params: object) -> FieldError:
    errors = ErrorCollector()
    errors.add(path, reason, **params)
    return errors.errors[0]


async def check_may_post(runtime: Runtime, session: AsyncSession, group: Group, member: str,
                         text: str) -> str:
    """The member's name if they may say `text` now; else InvalidInput saying why."""
    errors = ErrorCollector()
    if not text:
        errors.add("text", "type a message first")
    elif len(text) > TEXT_MAX:
        errors.add("text", "must be at most {limit} characters", limit=TEXT_MAX)
    name = await is_member(session, group, member) if member else None
    if name is None:
        errors.add("member", "choose a member of this group")
    elif await group_muted(session, group):
        errors.add("member", "the whole group is muted: nobody may speak")
    elif until := (await muted_until(session, group, runtime.clock.now())).get(member):
        seconds = int((until - runtime.clock.now()).total_seconds())
        errors.add("member", "{name} is muted for another {minutes} min", name=name,
                   minutes=max(1, -(-seconds // 60)))
    if errors or name is None:
        raise InvalidInput("the message was not sent", errors=errors.errors)
    return name


async def _mentions(runtime: Runtime, session: AsyncSession, group: Group, text: str,
                    author: str) -> list[str]:
    """Members named as @name in the text (names with spaces cannot be mentioned)."""
    wanted = set(_MENTION.findall(text))
    if not wanted:
        return []
    room = await load_room(session, group, runtime.clock.now())
    return [m.pid for m in room.members if m.name in wanted and m.pid != author]


async def _ingest(runtime: Runtime, group: Group, raw: dict[str, Any], name: str) -> None:
    [result] = await runtime.pipeline.ingest(group.org_id, [raw])
    if result.status == REJECTED:
        raise InvalidInput("the event was refused", errors=list(result.errors))
    runtime.playground.publish(group.platform_id, {"kind": "event", "org": group.org_id,
                                                   "event": raw, "name": name})


class KickReporter:
    """After a kick is delivered, the kicked member leaves the group, as a platform reports."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __call__(self, action: Action) -> None:
        if action.type != A.KICK_MEMBER or not action.member or not action.group:
            return
        runtime = self._runtime
        async with runtime.sessions() as session:
            org_id = await session.scalar(select(ActionRecord.org_id)
                                          .where(ActionRecord.id == action.id))
        if org_id is None:
            return
        await runtime.pipeline.ingest(org_id, [{
            "v": PROTOCOL_VERSION, "id": f"{KICK_EVENT_PREFIX}{action.id}",
            "type": E.MEMBER_LEFT, "platform": action.platform, "group": action.group,
            "member": action.member, "at": runtime.clock.now().isoformat(),
            "data": {"reason": "kicked"}}])


class ApprovalReporter:
    """After a join request is approved, the applicant enters the group, as a platform reports."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __call__(self, action: Action) -> None:
        if action.type != A.APPROVE_JOIN or not action.member or not action.group:
            return
        runtime = self._runtime
        async with runtime.sessions() as session:
            org_id = await session.scalar(select(ActionRecord.org_id)
                                          .where(ActionRecord.id == action.id))
            name = await session.scalar(select(PlatformAccount.display_name).where(
                PlatformAccount.org_id == org_id, PlatformAccount.platform == action.platform,
                PlatformAccount.platform_user_id == action.member)) if org_id else None
        if org_id is None:
            return
        raw = {"v": PROTOCOL_VERSION, "id": f"pj-{action.id}", "type": E.MEMBER_JOINED,
               "platform": action.platform, "group": action.group, "member": action.member,
               "at": runtime.clock.now().isoformat(),
               "data": {"name": name or action.member, "via": "approval"}}
        [result] = await runtime.pipeline.ingest(org_id, [raw])
        if result.status != REJECTED:
            runtime.playground.publish(action.group, {"kind": "event", "org": org_id,
                                                      "event": raw, "name": name or ""})


def install(runtime: Runtime) -> None:
    """Give the runtime's playground its platform behaviour (once)."""
    hooks = runtime.playground.on_delivered
    if not any(isinstance(hook, KickReporter) for hook in hooks):
        hooks.append(KickReporter(runtime))
    if not any(isinstance(hook, ApprovalReporter) for hook in hooks):
        hooks.append(ApprovalReporter(runtime))
