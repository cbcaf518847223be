"""Scopes as stored: rows for staff members, a JSON document for API tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Scope
from qunyun.community.staff import StaffScope, StaffUser

WHOLE_ORG = Scope()


async def load_scope(session: AsyncSession, user: StaffUser) -> Scope:
    if user.whole_org:
        return WHOLE_ORG
    rows = (await session.scalars(select(StaffScope).where(StaffScope.user_id == user.id))).all()
    return Scope(whole_org=False,
                 communities=frozenset(int(r.ref) for r in rows if r.kind == "community"),
                 stores=frozenset(r.ref for r in rows if r.kind == "store"),
                 groups=frozenset(int(r.ref) for r in rows if r.kind == "group"))


async def store_scope(session: AsyncSession, user: StaffUser, scope: Scope) -> None:
    """Replace the user's scope rows with `scope`."""
    user.whole_org = scope.whole_org
    await session.execute(delete(StaffScope).where(StaffScope.user_id == user.id))
    if not scope.whole_org:
        refs = [("community", str(c)) for c in sorted(scope.communities)]
        refs += [("store", s) for s in sorted(scope.stores)]
        refs += [("group", str(g)) for g in sorted(scope.groups)]
        session.add_all(StaffScope(user_id=user.id, kind=kind, ref=ref) for kind, ref in refs)
    await session.flush()


def scope_document(scope: Scope) -> dict[str, list[Any]] | None:
    """The JSON form of a scope (also what the audit log shows); None is the whole org."""
    if scope.whole_org:
        return None
    return {"communities": sorted(scope.communities), "stores": sorted(scope.stores),
            "groups": sorted(scope.groups)}


def scope_from_document(document: dict[str, list[Any]] | None) -> Scope:
    if document is None:
        return WHOLE_ORG
    return Scope(whole_org=False,
                 communities=frozenset(int(c) for c in document.get("communities", [])),
                 stores=frozenset(str(s) for s in document.get("stores", [])),
                 groups=frozenset(int(g) for g in document.get("groups", [])))
