"""The playbook editor's form: the TOML text and the groups it goes to, checked against the
principal's scope (a playbook may only change groups the principal may configure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal
from qunyun.community.models import Group, GroupTag, Playbook, Tag
from qunyun.community.roles import GROUP_ACTIVE, PURPOSES
from qunyun.core.errors import FieldError, Forbidden, InvalidInput
from qunyun.core.features import FeatureRegistry
from qunyun.core.i18n import N_
from qunyun.pipeline.playbook import PlaybookSpec, parse_playbook

BY_FILTERS = "filters"
BY_GROUPS = "groups"
MAX_SOURCE = 200_000

STARTER = """version = 1
name = "新剧本"

[community]
timezone = "Asia/Shanghai"
language = "zh_CN"

[features.stats]
enabled = true
"""


@dataclass(slots=True)
class PlaybookForm:
    """What was submitted (kept as typed) and what is wrong with it."""

    source: str = STARTER
    target: str = BY_FILTERS
    community_id: int | None = None
    tag: str | None = None
    purpose: str | None = None
    group_ids: list[int] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)  # of the text, with key paths
    selection_error: FieldError | None = None

    @classmethod
    def read(cls, form: Mapping[str, str], group_ids: Sequence[str]) -> PlaybookForm:
        community = form.get("community", "")
        purpose = form.get("purpose") or None
        return cls(source=form.get("source", "")[:MAX_SOURCE],
                   target=BY_GROUPS if form.get("target") == BY_GROUPS else BY_FILTERS,
                   community_id=int(community) if community.isdigit() else None,
                   tag=form.get("tag") or None,
                   purpose=purpose if purpose in PURPOSES else None,
                   group_ids=sorted({int(g) for g in group_ids if g.isdigit()}))


def check_source(form: PlaybookForm, registry: FeatureRegistry) -> PlaybookSpec | None:
    """The valid playbook, or None with every error (and its key path) in `form.errors`."""
    try:
        return parse_playbook(form.source, registry)
    except InvalidInput as exc:
        form.errors = exc.errors or [FieldError("", exc.message, tuple(exc.params.items()))]
        return None


async def selected_groups(session: AsyncSession, principal: Principal,
                          form: PlaybookForm) -> list[int]:
    """The visible active groups the form selects; an empty selection is an error."""
    query = select(Group.id).where(principal.group_clause(), Group.status == GROUP_ACTIVE)
    if form.target == BY_GROUPS:
        if not form.group_ids:
            form.selection_error = FieldError("", N_("choose at least one group"))
            return []
        query = query.where(Group.id.in_(form.group_ids))
    else:
        if form.community_id is None and form.tag is None and form.purpose is None:
            form.selection_error = FieldError(
                "", N_("choose a community, a tag or a type (or pick groups one by one)"))
            return []
        query = _filtered(query, principal, form)
    ids = list(await session.scalars(query.order_by(Group.id)))
    if not ids:
        form.selection_error = FieldError("", N_("no group you can see matches the selection"))
    return ids


def _filtered(query: Select[int], principal: Principal,
              form: PlaybookForm) -> Select[int]:
    if form.community_id is not None:
        query = query.where(Group.community_id == form.community_id)
    if form.purpose is not None:
        query = query.where(Group.purpose == form.purpose)
    if form.tag is not None:
        tagged = (select(GroupTag.group_id).join(Tag, Tag.id == GroupTag.tag_id)
                  .where(Tag.org_id == principal.org_id, Tag.name == form.tag))
        query = query.where(Group.id.in_(tagged))
    return query


async def followers(session: AsyncSession, org_id: int, name: str) -> list[Group]:
    """The groups already using the stored playbook of that name: applying changes them too."""
    playbook_id = await session.scalar(select(Playbook.id).where(Playbook.org_id == org_id,
                                                                 Playbook.name == name))
    if playbook_id is None:
        return []
    return list(await session.scalars(select(Group).where(Group.playbook_id == playbook_id)))


async def check_followers_in_scope(session: AsyncSession, principal: Principal,
                                   name: str) -> list[int]:
    """The ids of the groups following the playbook; Forbidden if one is outside the scope."""
    groups = await followers(session, principal.org_id, name)
    if any(not principal.scope.covers(g) for g in groups):
        raise Forbidden("this playbook is also used by groups outside your scope")
    return [g.id for g in groups]
