"""Writing the community model outside the event path: organizations, communities, groups, tokens.

Services never commit; the caller's unit of work does.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import ApiToken, Community, Group, GroupTag, Organization, Tag
from qunyun.community.roles import PURPOSES
from qunyun.core.errors import Conflict, InvalidInput, NotFound, Unauthorized

TOKEN_KINDS = ("api", "bridge")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def do_create_organization(session: AsyncSession, *, name: str, slug: str,
                                 at: datetime, timezone: str = "Asia/Shanghai",
                                 language: str = "zh_CN") -> Organization:
    if not name.strip():
        raise InvalidInput("the organization needs a name")
    if not _SLUG.match(slug):
        raise InvalidInput("slug must be lowercase letters, digits and dashes: {slug}", slug=slug)
    if await session.scalar(select(Organization.id).where(Organization.slug == slug)):
        raise Conflict("an organization with slug {slug} exists already", slug=slug)
    org = Organization(name=name.strip(), slug=slug, timezone=timezone, language=language,
                       settings_revision=0, created_at=at)
    session.add(org)
    await session.flush()
    return org


async def get_organization_by_slug(session: AsyncSession, slug: str) -> Organization:
    org = await session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound("no organization with slug {slug}", slug=slug)
    return org


async def do_create_community(session: AsyncSession, *, org_id: int, name: str, at: datetime,
                              positioning: str = "", value: str = "",
                              rules: str = "") -> Community:
    if not name.strip():
        raise InvalidInput("the community needs a name")
    exists = await session.scalar(select(Community.id).where(Community.org_id == org_id,
                                                             Community.name == name))
    if exists:
        raise Conflict("a community named {name} exists already", name=name)
    community = Community(org_id=org_id, name=name.strip(), positioning=positioning, value=value,
                          rules=rules, created_at=at)
    session.add(community)
    await session.flush()
    return community


async def do_create_group(session: AsyncSession, *, org_id: int, platform: str,
                          platform_id: str, name: str, at: datetime,
                          community_id: int | None = None, purpose: str = "other",
                          store: str | None = None, capacity: int | None = None,
                          tags: list[str] | None = None) -> Group:
    if purpose not in PURPOSES:
        raise InvalidInput("purpose must be one of: {choices}", choices=", ".join(PURPOSES))
    if capacity is not None and capacity <= 0:
        raise InvalidInput("capacity must be a positive integer")
    if community_id is not None and await session.scalar(select(Community.id).where(
            Community.id == community_id, Community.org_id == org_id)) is None:
        raise NotFound("no such community: {id}", id=community_id)
    exists = await session.scalar(select(Group.id).where(
        Group.org_id == org_id, Group.platform == platform, Group.platform_id == platform_id))
    if exists:
        raise Conflict("group {platform}:{id} exists already", platform=platform, id=platform_id)
    group = Group(org_id=org_id, community_id=community_id, platform=platform,
                  platform_id=platform_id, name=name, purpose=purpose, store=store,
                  capacity=capacity, status="active", notice="", created_at=at)
    session.add(group)
    await session.flush()
    for tag in tags or []:
        await do_tag_group(session, org_id=org_id, group_id=group.id, tag=tag)
    return group


async def tag_id(session: AsyncSession, org_id: int, name: str) -> int:
    name = name.strip()
    if not name:
        raise InvalidInput("a tag cannot be empty")
    found = await session.scalar(select(Tag.id).where(Tag.org_id == org_id, Tag.name == name))
    if found is not None:
        return found
    tag = Tag(org_id=org_id, name=name)
    session.add(tag)
    await session.flush()
    return tag.id


async def do_tag_group(session: AsyncSession, *, org_id: int, group_id: int, tag: str) -> None:
    tid = await tag_id(session, org_id, tag)
    if await session.get(GroupTag, (group_id, tid)) is None:
        session.add(GroupTag(group_id=group_id, tag_id=tid))


async def do_create_token(session: AsyncSession, *, org_id: int, name: str, kind: str,
                          at: datetime) -> str:
    """Create a token and return it in clear once; only its hash is stored."""
    if kind not in TOKEN_KINDS:
        raise InvalidInput("token kind must be one of: {choices}", choices=", ".join(TOKEN_KINDS))
    token = f"qy{kind[0]}_{secrets.token_urlsafe(32)}"
    session.add(ApiToken(org_id=org_id, name=name, kind=kind, token_hash=hash_token(token),
                         created_at=at))
    await session.flush()
    return token


async def access_token(session: AsyncSession, token: str, kind: str) -> ApiToken:
    """The live token of `kind` matching `token`, or Unauthorized."""
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token),
                                                      ApiToken.kind == kind,
                                                      ApiToken.revoked_at.is_(None)))
    if row is None:
        raise Unauthorized("invalid or revoked token")
    return row
