"""Scope filters for API queries: a token scoped to some communities, stores or groups sees only
rows of those groups (rows without a group stay hidden from it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import InstrumentedAttribute

from qunyun.community.access import Principal
from qunyun.community.models import Group, Membership


def in_scope(caller: Principal, group_id: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """Rows whose group lies inside the caller's scope."""
    if caller.scope.whole_org:
        return true()
    return group_id.in_(select(Group.id).where(caller.group_clause()))


def person_in_scope(caller: Principal,
                    person_id: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """Persons with a membership (past or present) in a group inside the caller's scope."""
    if caller.scope.whole_org:
        return true()
    return exists().where(Membership.person_id == person_id,
                          in_scope(caller, Membership.group_id))
