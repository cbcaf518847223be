"""Signing staff in and out: password checks, the login rate limit, server-side sessions.

A session is a random token in the browser's cookie; only its SHA-256 is stored, with an expiry
that slides forward while the session is used, and a CSRF token for the forms of that session.
Time always comes from the caller (the runtime's clock), never the wall.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal
from qunyun.community.audit import do_record
from qunyun.community.staff import LoginAttempt, StaffSession, StaffUser
from qunyun.community.staff_scope import load_scope
from qunyun.core.errors import QunyunError, Unauthorized

SESSION_LIFETIME = timedelta(days=14)
# The expiry slides forward at most this often, so a busy session does not write per request.
SESSION_REFRESH = timedelta(hours=1)
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_FAILED_ATTEMPTS = 5

# argon2id with the library's recommended parameters (tests swap in cheaper ones).
_hasher = PasswordHasher()


class TooManyAttempts(QunyunError):
    code = "too_many_attempts"
    status = 429


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Checked when the username is unknown, so that costs as much time as a wrong password."""
    return hasher.hash("qunyun-no-such-user")


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session just opened: the cookie's token (shown once) and the stored row."""

    token: str
    session: StaffSession
    user: StaffUser


async def check_attempts_left(session: AsyncSession, *, username: str, ip: str,
                              at: datetime) -> None:
    """TooManyAttempts when the username or the address failed too often of late."""
    since = at - ATTEMPT_WINDOW
    for column, value in ((LoginAttempt.username, username), (LoginAttempt.ip, ip)):
        failed = await session.scalar(select(func.count()).select_from(LoginAttempt).where(
            column == value, LoginAttempt.at > since))
        if (failed or 0) >= MAX_FAILED_ATTEMPTS:
            minutes = int(ATTEMPT_WINDOW.total_seconds() // 60)
            raise TooManyAttempts(
                "too many failed sign-ins; try again in {minutes} minutes", minutes=minutes)


async def do_sign_in(session: AsyncSession, *, username: str, password: str, ip: str,
                     at: datetime) -> SignedIn:
    """Open a session for the user whose password matches; Unauthorized otherwise.

    A failure is counted for the rate limit, so the caller commits in both cases."""
    username = username.strip()
    await check_attempts_left(session, username=username, ip=ip, at=at)
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    hashed = user.password_hash if user is not None else _dummy_hash(_hasher)
    # argon2 is deliberately slow: check in a thread so other requests (live chat) go on.
    if not await asyncio.to_thread(password_matches, hashed, password) or user is None:
        await _record_failure(session, username=username, ip=ip, at=at)
        raise Unauthorized("wrong username or password")
    if user.disabled_at is not None:
        raise Unauthorized("this account is disabled; ask an administrator")
    await session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return await open_session(session, user=user, at=at)


async def _record_failure(session: AsyncSession, *, username: str, ip: str,
                          at: datetime) -> None:
    # Attempts older than a day serve nobody; prune them as new ones arrive.
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < at - timedelta(days=1)))
    session.add(LoginAttempt(username=username[:64], ip=ip[:64], at=at))
    await session.flush()


async def open_session(session: AsyncSession, *, user: StaffUser, at: datetime) -> SignedIn:
    token = secrets.token_urlsafe(32)
    row = StaffSession(user_id=user.id, token_hash=_digest(token),
                       csrf_token=secrets.token_urlsafe(32), created_at=at,
                       expires_at=at + SESSION_LIFETIME)
    session.add(row)
    await session.flush()
    return SignedIn(token, row, user)


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A valid session with its user; `refreshed` when its expiry just moved forward."""

    session: StaffSession
    user: StaffUser
    refreshed: bool


async def access_session(session: AsyncSession, token: str, at: datetime) -> LiveSession:
    """The live session for a cookie token; Unauthorized when unknown, expired or disabled."""
    found = (await session.execute(
        select(StaffSession, StaffUser).join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == _digest(token)))).first()
    if found is None:
        raise Unauthorized("please sign in")
    row, user = found
    if row.expires_at <= at or user.disabled_at is not None:
        await session.delete(row)
        await session.flush()
        raise Unauthorized("your session has ended; please sign in again")
    refreshed = row.expires_at - at < SESSION_LIFETIME - SESSION_REFRESH
    if refreshed:
        row.expires_at = at + SESSION_LIFETIME
        await session.flush()
    return LiveSession(row, user, refreshed)


async def do_sign_out(session: AsyncSession, token: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


async def do_end_sessions(session: AsyncSession, *, user_id: int,
                          keep_session_id: int | None = None) -> None:
    """End every session of a user, except the one kept (the browser that asked)."""
    query = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep_session_id is not None:
        query = query.where(StaffSession.id != keep_session_id)
    await session.execute(query)


async def staff_principal(session: AsyncSession, user: StaffUser,
                          locale: str = "zh_CN") -> Principal:
    """The principal a staff member acts as: role and scope as stored."""
    return Principal(org_id=user.org_id, role=user.role, actor=f"staff:{user.username}",
                     scope=await load_scope(session, user), user_id=user.id, locale=locale)


async def record_sign_in(session: AsyncSession, *, principal: Principal, ip: str,
                         at: datetime) -> None:
    await do_record(session, principal=principal, action="staff.sign_in",
                    target_type="staff", target_id=str(principal.user_id), before=None,
                    after={"username": principal.actor.removeprefix("staff:"), "ip": ip}, at=at)
