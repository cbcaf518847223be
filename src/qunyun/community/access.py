"""Who may see and do what: staff roles, their scopes, and the checks every page and endpoint
makes. A guide (导购) sees and acts on her own groups only; HQ roles see the organization.

A `Principal` is whoever makes a request: a signed-in staff member or an API token. Both carry
a role and a scope; both are checked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group
from qunyun.core.errors import Forbidden, NotFound

STAFF_ROLES = ("owner", "admin", "operator", "guide", "viewer")

VIEW = "view"            # read pages and data within the scope
ACT = "act"              # do things in a group: mark tasks done, chat in the playground
CONFIGURE = "configure"  # settings and playbooks
MANAGE_STAFF = "manage_staff"  # staff accounts, roles, tokens, platforms
AUDIT = "audit"          # read the audit log

PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset({VIEW, ACT, CONFIGURE, MANAGE_STAFF, AUDIT}),
    "admin": frozenset({VIEW, ACT, CONFIGURE, MANAGE_STAFF, AUDIT}),
    "operator": frozenset({VIEW, ACT, CONFIGURE}),
    "guide": frozenset({VIEW, ACT}),
    "viewer": frozenset({VIEW}),
}


@dataclass(frozen=True, slots=True)
class Scope:
    """The part of an organization a principal works on: all of it, or chosen communities,
    stores and groups (any match grants access)."""

    whole_org: bool = True
    communities: frozenset[int] = field(default_factory=frozenset)
    stores: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[int] = field(default_factory=frozenset)

    def group_clause(self) -> ColumnElement[bool]:
        """SQL condition on `Group` for the groups inside this scope."""
        if self.whole_org:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.communities:
            parts.append(Group.community_id.in_(sorted(self.communities)))
        if self.stores:
            parts.append(Group.store.in_(sorted(self.stores)))
        if self.groups:
            parts.append(Group.id.in_(sorted(self.groups)))
        return or_(*parts) if parts else false()

    def covers(self, group: Group) -> bool:
        return (self.whole_org or group.community_id in self.communities
                or (group.store is not None and group.store in self.stores)
                or group.id in self.groups)


@dataclass(frozen=True, slots=True)
class Principal:
    org_id: int
    role: str
    actor: str  # how the audit log names them: "staff:alice", "token:ops"
    scope: Scope = field(default_factory=Scope)
    user_id: int | None = None
    locale: str = "zh_CN"

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden("your role ({role}) may not do this", role=self.role)

    def group_clause(self) -> ColumnElement[bool]:
        """Groups this principal may see: in its organization and inside its scope."""
        return and_(Group.org_id == self.org_id, self.scope.group_clause())


async def access_group(session: AsyncSession, principal: Principal, group_id: int,
                       permission: str = VIEW) -> Group:
    """The group, if the principal may `permission` it. Another organization's group is
    NotFound (its existence is not revealed); one outside the scope is Forbidden."""
    group = await session.scalar(select(Group).where(Group.id == group_id,
                                                     Group.org_id == principal.org_id))
    if group is None:
        raise NotFound("no such group: {id}", id=group_id)
    if not principal.scope.covers(group):
        raise Forbidden("this group is outside your scope")
    principal.require(permission)
    return group
