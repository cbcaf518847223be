"""Reading effective settings: where each value of a group comes from, and what a playbook would
change. Values are merged as the pipeline merges them (`qunyun.community.settings.merge`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group, Playbook
from qunyun.community.settings import Effective, GroupScope, LayerIndex, load_layers, merge
from qunyun.core.errors import NotFound
from qunyun.core.features import FeatureRegistry
from qunyun.pipeline.playbook.apply import PLAYBOOK_SCOPE
from qunyun.pipeline.playbook.sections import JsonDict, section_defaults
from qunyun.pipeline.playbook.selection import check_groups_of_org
from qunyun.pipeline.playbook.spec import PlaybookSpec

NEW_PLAYBOOK_ID = 0  # stands for a playbook not stored yet (row ids start at 1)


@dataclass(frozen=True, slots=True)
class SettingChange:
    section: str
    key: str
    before: Any
    after: Any
    before_source: str
    after_source: str

    def as_dict(self) -> dict[str, Any]:
        return {"section": self.section, "key": self.key, "before": self.before,
                "after": self.after, "before_source": self.before_source,
                "after_source": self.after_source}


@dataclass(frozen=True, slots=True)
class GroupDiff:
    group_id: int
    platform: str
    platform_id: str
    name: str
    selected: bool  # False: not selected, but it already uses this playbook, so it follows
    changes: tuple[SettingChange, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "group": f"{self.platform}:{self.platform_id}",
                "name": self.name, "selected": self.selected,
                "changes": [c.as_dict() for c in self.changes]}


def effective_settings(defaults: Mapping[str, JsonDict], layers: LayerIndex,
                       scope: GroupScope) -> dict[str, Effective]:
    return {section: merge(values, layers, scope, section) for section, values in defaults.items()}


def _scope(group: Group, playbook_id: int | None) -> GroupScope:
    return GroupScope(group.org_id, group.community_id, playbook_id, group.id)


async def describe_settings(session: AsyncSession, registry: FeatureRegistry, *, group_id: int,
                            org_id: int | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Per section, per key: `{"value": …, "source": "default" | "organization" | …}`."""
    group = await session.get(Group, group_id)
    if group is None or (org_id is not None and group.org_id != org_id):
        raise NotFound("no group {group} in this organization", group=group_id)
    layers = await load_layers(session, group.org_id)
    sections = effective_settings(section_defaults(registry), layers,
                                  _scope(group, group.playbook_id))
    return {section: {key: {"value": value, "source": effective.sources[key]}
                      for key, value in effective.values.items()}
            for section, effective in sections.items()}


async def diff_playbook(session: AsyncSession, registry: FeatureRegistry, *, org_id: int,
                        spec: PlaybookSpec, group_ids: Iterable[int]) -> list[GroupDiff]:
    """What applying `spec` to the groups would change in their effective settings.

    Groups that already use a playbook of the same name are included: they follow it too.
    """
    selected = set(await check_groups_of_org(session, org_id=org_id, group_ids=group_ids))
    existing = await session.scalar(select(Playbook.id).where(Playbook.org_id == org_id,
                                                              Playbook.name == spec.name))
    target = existing if existing is not None else NEW_PLAYBOOK_ID
    before = await load_layers(session, org_id)
    after = {k: v for k, v in before.items() if k[:2] != (PLAYBOOK_SCOPE, target)}
    after.update({(PLAYBOOK_SCOPE, target, s): dict(v) for s, v in spec.sections.items()})
    groups = await session.scalars(select(Group).where(
        Group.org_id == org_id,
        or_(Group.id.in_(sorted(selected)), Group.playbook_id == target)).order_by(Group.id))
    defaults = section_defaults(registry)
    return [GroupDiff(group.id, group.platform, group.platform_id, group.name,
                      group.id in selected,
                      _changes(effective_settings(defaults, before,
                                                  _scope(group, group.playbook_id)),
                               effective_settings(defaults, after, _scope(group, target))))
            for group in groups]


def _changes(before: Mapping[str, Effective],
             after: Mapping[str, Effective]) -> tuple[SettingChange, ...]:
    changes: list[SettingChange] = []
    for section, old in before.items():
        new = after[section]
        for key in [*old.values, *(k for k in new.values if k not in old.values)]:
            if old.values.get(key) != new.values.get(key):
                changes.append(SettingChange(section, key, old.values.get(key),
                                             new.values.get(key), old.sources.get(key, "none"),
                                             new.sources.get(key, "none")))
    return tuple(changes)
