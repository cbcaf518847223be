"""Invite codes (邀请码): made by staff on the dashboard or the CLI, each with an owner the
newcomers are attributed to, an optional limit of uses and an expiry; revoking one ends it.

A use is taken with one conditional UPDATE (`uses < max_uses`), so two newcomers racing for the
last use cannot both get in.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.errors import Conflict, ErrorCollector, InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.features.gate.models import APPROVED, InviteCode, JoinRequest

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{3,31}$")
MAX_USES = 1_000_000
MAX_NOTE = 200
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand

# Why a code does not let someone in (message ids, shown to the applicant).
UNKNOWN = N_("the invite code is not valid")
REVOKED = N_("the invite code was revoked")
EXPIRED = N_("the invite code has expired")
USED_UP = N_("the invite code has been used up")
ELSEWHERE = N_("the invite code is not for this group")


def normalize_code(raw: str) -> str:
    return raw.strip().upper()


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """A code as staff ask for it, validated."""

    code: str
    community_id: int
    group_id: int | None
    owner_person_id: int | None
    note: str
    max_uses: int | None
    expires_at: datetime | None


def check_code(*, code: str, max_uses: int | None, expires_at: datetime | None, note: str,
               at: datetime) -> str:
    """The normalized code if the request is valid; else InvalidInput naming each field."""
    errors = ErrorCollector()
    value = normalize_code(code) or new_code()
    if not CODE_PATTERN.match(value):
        errors.add("code", N_("4 to 32 letters, digits, - or _"))
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        errors.add("max_uses", "must be between {low} and {high}", low=1, high=MAX_USES)
    if expires_at is not None and expires_at <= at:
        errors.add("expires_at", N_("must be in the future"))
    if len(note) > MAX_NOTE:
        errors.add("note", "must be at most {limit} characters", limit=MAX_NOTE)
    if errors:
        raise InvalidInput(N_("the invite code was not created"), errors=errors.errors)
    return value


async def do_create_code(session: AsyncSession, *, org_id: int, spec: CodeSpec,
                         created_by: str, at: datetime) -> InviteCode:
    taken = await session.scalar(select(InviteCode.id).where(InviteCode.org_id == org_id,
                                                             InviteCode.code == spec.code))
    if taken is not None:
        raise Conflict(N_("the invite code {code} exists already"), code=spec.code)
    code = InviteCode(org_id=org_id, community_id=spec.community_id, group_id=spec.group_id,
                      code=spec.code, owner_person_id=spec.owner_person_id, note=spec.note,
                      max_uses=spec.max_uses, uses=0, expires_at=spec.expires_at,
                      created_by=created_by, created_at=at)
    session.add(code)
    await session.flush()
    return code


async def find_code(session: AsyncSession, *, org_id: int, code: str) -> InviteCode | None:
    return await session.scalar(select(InviteCode).where(
        InviteCode.org_id == org_id, InviteCode.code == normalize_code(code)))


async def get_code(session: AsyncSession, *, org_id: int, code_id: int) -> InviteCode:
    found = await session.scalar(select(InviteCode).where(InviteCode.org_id == org_id,
                                                          InviteCode.id == code_id))
    if found is None:
        raise NotFound(N_("no such invite code: {id}"), id=code_id)
    return found


def refusal(code: InviteCode | None, *, community_id: int | None, group_id: int,
            at: datetime) -> str | None:
    """Why `code` does not admit to the group now (a message id), or None if it does."""
    if code is None:
        return UNKNOWN
    if code.revoked_at is not None:
        return REVOKED
    if code.expires_at is not None and code.expires_at <= at:
        return EXPIRED
    if code.community_id != community_id or code.group_id not in (None, group_id):
        return ELSEWHERE
    if code.max_uses is not None and code.uses >= code.max_uses:
        return USED_UP
    return None


async def do_take_use(session: AsyncSession, *, code_id: int) -> bool:
    """Count one use; False if the last one was taken meanwhile."""
    taken = await session.scalar(
        update(InviteCode)
        .where(InviteCode.id == code_id,
               (InviteCode.max_uses.is_(None)) | (InviteCode.uses < InviteCode.max_uses))
        .values(uses=InviteCode.uses + 1).returning(InviteCode.id))
    return taken is not None


async def do_revoke(session: AsyncSession, *, org_id: int, code_id: int,
                    at: datetime) -> InviteCode:
    code = await get_code(session, org_id=org_id, code_id=code_id)
    if code.revoked_at is None:
        code.revoked_at = at
        await session.flush()
    return code


async def list_codes(session: AsyncSession, *, org_id: int) -> list[InviteCode]:
    return list(await session.scalars(select(InviteCode).where(InviteCode.org_id == org_id)
                                      .order_by(InviteCode.id.desc())))


async def joined_with(session: AsyncSession, *, code_id: int) -> list[JoinRequest]:
    """The approved entries that used the code, newest first."""
    return list(await session.scalars(select(JoinRequest).where(
        JoinRequest.code_id == code_id, JoinRequest.status == APPROVED)
        .order_by(JoinRequest.id.desc())))


async def approved_counts(session: AsyncSession, *, code_ids: list[int]) -> dict[int, int]:
    if not code_ids:
        return {}
    rows = await session.execute(
        select(JoinRequest.code_id, func.count()).where(
            JoinRequest.code_id.in_(code_ids), JoinRequest.status == APPROVED)
        .group_by(JoinRequest.code_id))
    return {int(code_id): int(count) for code_id, count in rows if code_id is not None}
