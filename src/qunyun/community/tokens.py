"""Bridge and API tokens as staff manage them: create with a role and scope, list, revoke.

Audited like every staff change; the token itself is shown once and never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal, Scope
from qunyun.community.audit import do_record
from qunyun.community.models import ApiToken
from qunyun.community.service import TOKEN_KINDS, do_create_token, hash_token
from qunyun.community.staff_scope import scope_document
from qunyun.community.staff_service import check_role, check_scope, require_staff_manager
from qunyun.core.errors import ErrorCollector, InvalidInput, NotFound

MAX_NAME = 100


def token_snapshot(row: ApiToken) -> dict[str, Any]:
    return {"name": row.name, "kind": row.kind, "role": row.role, "scope": row.scope,
            "revoked": row.revoked_at is not None}


async def do_create_scoped_token(session: AsyncSession, *, principal: Principal, name: str,
                                 kind: str, role: str, scope: Scope, at: datetime,
                                 errors: ErrorCollector | None = None) -> str:
    """A new token with `role` and `scope` (bridge tokens only feed events: admin, whole org).
    Returns the token in clear, once."""
    require_staff_manager(principal)
    name = name.strip()
    errors = errors or ErrorCollector()
    if not name:
        errors.add("name", "a token needs a name")
    elif len(name) > MAX_NAME:
        errors.add("name", "must be at most {n} characters long", n=MAX_NAME)
    if kind not in TOKEN_KINDS:
        errors.add("kind", "must be one of: {choices}", choices=", ".join(TOKEN_KINDS))
    if kind == "api":
        check_role(errors, principal, role)
        await check_scope(session, errors, principal.org_id, role, scope)
    if errors:
        raise InvalidInput("the token cannot be created", errors=errors.errors)
    token = await do_create_token(session, org_id=principal.org_id, name=name, kind=kind, at=at)
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    assert row is not None
    if kind == "api":
        row.role, row.scope = role, scope_document(scope)
    await session.flush()
    await do_record(session, principal=principal, action="token.create", target_type="token",
                    target_id=row.id, before=None, after=token_snapshot(row), at=at)
    return token


async def do_revoke_token(session: AsyncSession, *, principal: Principal, token_id: int,
                          at: datetime) -> ApiToken:
    require_staff_manager(principal)
    row = await session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                      ApiToken.org_id == principal.org_id))
    if row is None:
        raise NotFound("no such token: {id}", id=token_id)
    if row.revoked_at is None:
        before = token_snapshot(row)
        row.revoked_at = at
        await session.flush()
        await do_record(session, principal=principal, action="token.revoke",
                        target_type="token", target_id=row.id, before=before,
                        after=token_snapshot(row), at=at)
    return row


async def list_tokens(session: AsyncSession, org_id: int) -> Sequence[ApiToken]:
    return (await session.scalars(select(ApiToken).where(ApiToken.org_id == org_id)
                                  .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id))).all()
