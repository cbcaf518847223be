"""Writing staff accounts: create, change role and scope, disable, change passwords.

Every change is checked against the principal making it (`check_*`), applied (`do_*`) and
recorded in the audit log in the same unit of work. Services never commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import MANAGE_STAFF, STAFF_ROLES, Principal, Scope
from qunyun.community.audit import do_record
from qunyun.community.models import Community, Group
from qunyun.community.staff import StaffUser
from qunyun.community.staff_scope import load_scope, scope_document, store_scope
from qunyun.community.staff_sessions import do_end_sessions, hash_password, password_matches
from qunyun.core.errors import ErrorCollector, Forbidden, InvalidInput, NotFound

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_USERNAME = re.compile(r"^[\w.\-]{2,64}$")
# The principal of the command line: whoever can run `qunyun` on the server owns the place.
CLI_ACTOR = "cli"


def cli_principal(org_id: int) -> Principal:
    return Principal(org_id=org_id, role="owner", actor=CLI_ACTOR)


def check_password(errors: ErrorCollector, field: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        errors.add(field, "must be at least {n} characters long", n=MIN_PASSWORD)
    elif len(password) > MAX_PASSWORD:
        errors.add(field, "must be at most {n} characters long", n=MAX_PASSWORD)


def check_role(errors: ErrorCollector, principal: Principal, role: str) -> None:
    if role not in STAFF_ROLES:
        errors.add("role", "must be one of: {choices}", choices=", ".join(STAFF_ROLES))
    elif role == "owner" and principal.role != "owner":
        errors.add("role", "only an owner may make someone an owner")


def require_staff_manager(principal: Principal) -> None:
    """Managing staff needs the permission and a view of the whole organization."""
    principal.require(MANAGE_STAFF)
    if not principal.scope.whole_org:
        raise Forbidden("only staff working on the whole organization may manage staff")


async def check_scope(session: AsyncSession, errors: ErrorCollector, org_id: int, role: str,
                      scope: Scope) -> None:
    """A chosen scope names communities and groups of the organization."""
    if scope.whole_org:
        if role == "guide":
            errors.add("scope", "a guide works on chosen communities, stores or groups")
        return
    if not (scope.communities or scope.stores or scope.groups):
        errors.add("scope", "choose at least one community, store or group")
    found = set(await session.scalars(select(Community.id).where(
        Community.org_id == org_id, Community.id.in_(sorted(scope.communities)))))
    if missing := scope.communities - found:
        errors.add("communities", "no such community: {ids}", ids=_ids(missing))
    found = set(await session.scalars(select(Group.id).where(
        Group.org_id == org_id, Group.id.in_(sorted(scope.groups)))))
    if missing := scope.groups - found:
        errors.add("groups", "no such group: {ids}", ids=_ids(missing))
    if any(not store.strip() for store in scope.stores):
        errors.add("stores", "a store name cannot be empty")


def _ids(ids: set[int] | frozenset[int]) -> str:
    return ", ".join(str(i) for i in sorted(ids))


async def snapshot(session: AsyncSession, user: StaffUser) -> dict[str, Any]:
    """What the audit log keeps of a staff member (never the password hash)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "scope": scope_document(await load_scope(session, user)),
            "disabled": user.disabled_at is not None}


async def do_create_staff(session: AsyncSession, *, principal: Principal, username: str,
                          password: str, role: str, scope: Scope, at: datetime,
                          display_name: str = "",
                          errors: ErrorCollector | None = None) -> StaffUser:
    """Create a staff member. `errors`: problems the caller found already (reading a form),
    reported together with these."""
    require_staff_manager(principal)
    username = username.strip()
    errors = errors or ErrorCollector()
    if not _USERNAME.match(username):
        errors.add("username", "use 2 to 64 letters, digits, dots, dashes or underscores")
    elif await session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        errors.add("username", "this username is taken")
    check_password(errors, "password", password)
    check_role(errors, principal, role)
    await check_scope(session, errors, principal.org_id, role, scope)
    if errors:
        raise InvalidInput("the staff member cannot be created", errors=errors.errors)
    user = StaffUser(org_id=principal.org_id, username=username,
                     display_name=display_name.strip()[:200], password_hash=hash_password(password),
                     role=role, whole_org=scope.whole_org, created_at=at, password_changed_at=at)
    session.add(user)
    await session.flush()
    await store_scope(session, user, scope)
    await do_record(session, principal=principal, action="staff.create", target_type="staff",
                    target_id=user.id, before=None, after=await snapshot(session, user), at=at)
    return user


async def access_staff(session: AsyncSession, principal: Principal, user_id: int) -> StaffUser:
    """A staff member of the principal's organization that the principal may manage."""
    require_staff_manager(principal)
    user = await session.scalar(select(StaffUser).where(StaffUser.id == user_id,
                                                        StaffUser.org_id == principal.org_id))
    if user is None:
        raise NotFound("no such staff member: {id}", id=user_id)
    if user.id == principal.user_id:
        raise Forbidden("you cannot change your own role, scope or account here")
    if user.role == "owner" and principal.role != "owner":
        raise Forbidden("only an owner may change an owner")
    return user


async def do_update_staff(session: AsyncSession, *, principal: Principal, user_id: int,
                          role: str, scope: Scope, at: datetime,
                          display_name: str | None = None,
                          errors: ErrorCollector | None = None) -> StaffUser:
    user = await access_staff(session, principal, user_id)
    errors = errors or ErrorCollector()
    check_role(errors, principal, role)
    await check_scope(session, errors, principal.org_id, role, scope)
    if errors:
        raise InvalidInput("the staff member cannot be changed", errors=errors.errors)
    before = await snapshot(session, user)
    user.role = role
    if display_name is not None:
        user.display_name = display_name.strip()[:200]
    await store_scope(session, user, scope)
    after = await snapshot(session, user)
    if after != before:
        await do_record(session, principal=principal, action="staff.update",
                        target_type="staff", target_id=user.id, before=before, after=after, at=at)
    return user


async def do_set_staff_disabled(session: AsyncSession, *, principal: Principal, user_id: int,
                                disabled: bool, at: datetime) -> StaffUser:
    """Disable (every session ends) or enable a staff member."""
    user = await access_staff(session, principal, user_id)
    if (user.disabled_at is not None) == disabled:
        return user
    before = await snapshot(session, user)
    user.disabled_at = at if disabled else None
    if disabled:
        await do_end_sessions(session, user_id=user.id)
    await session.flush()
    await do_record(session, principal=principal,
                    action="staff.disable" if disabled else "staff.enable", target_type="staff",
                    target_id=user.id, before=before, after=await snapshot(session, user), at=at)
    return user


async def do_change_password(session: AsyncSession, *, principal: Principal, current: str,
                             new: str, confirm: str, at: datetime,
                             keep_session_id: int | None = None) -> None:
    """Change one's own password; every other session of the user ends."""
    user = await _own_account(session, principal)
    errors = ErrorCollector()
    if not password_matches(user.password_hash, current):
        errors.add("current", "this is not your current password")
    check_password(errors, "new", new)
    if not errors and new != confirm:
        errors.add("confirm", "the two new passwords differ")
    if errors:
        raise InvalidInput("the password was not changed", errors=errors.errors)
    await _set_password(session, principal, user, new, at, keep_session_id)


async def do_reset_password(session: AsyncSession, *, principal: Principal, username: str,
                            new: str, at: datetime) -> StaffUser:
    """Set someone's password from the command line; all their sessions end."""
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username.strip(),
                                                        StaffUser.org_id == principal.org_id))
    if user is None:
        raise NotFound("no staff member named {name}", name=username)
    errors = ErrorCollector()
    check_password(errors, "password", new)
    if errors:
        raise InvalidInput("the password was not changed", errors=errors.errors)
    await _set_password(session, principal, user, new, at, None)
    return user


async def _own_account(session: AsyncSession, principal: Principal) -> StaffUser:
    user = (await session.get(StaffUser, principal.user_id)
            if principal.user_id is not None else None)
    if user is None or user.org_id != principal.org_id:
        raise Forbidden("only a signed-in staff member has a password to change")
    return user


async def _set_password(session: AsyncSession, principal: Principal, user: StaffUser,
                        new: str, at: datetime, keep_session_id: int | None) -> None:
    user.password_hash = hash_password(new)
    user.password_changed_at = at
    await do_end_sessions(session, user_id=user.id, keep_session_id=keep_session_id)
    await session.flush()
    await do_record(session, principal=principal, action="staff.password",
                    target_type="staff", target_id=user.id, before=None,
                    after={"username": user.username, "password": "changed"}, at=at)


async def list_staff(session: AsyncSession, org_id: int) -> Sequence[StaffUser]:
    return (await session.scalars(select(StaffUser).where(StaffUser.org_id == org_id)
                                  .order_by(StaffUser.username))).all()


async def get_staff_by_username(session: AsyncSession, org_id: int, username: str) -> StaffUser:
    user = await session.scalar(select(StaffUser).where(StaffUser.org_id == org_id,
                                                        StaffUser.username == username))
    if user is None:
        raise NotFound("no staff member named {name}", name=username)
    return user
