"""Effective settings per group, cached until the organization's settings revision changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.settings import (
    COMMUNITY_SECTION,
    CommunitySettings,
    GroupScope,
    load_layers,
    merge,
    revision,
)
from qunyun.core.features import FeatureRegistry, FeatureSettings


@dataclass(slots=True)
class GroupSettings:
    community: CommunitySettings
    features: dict[str, FeatureSettings]


@dataclass(slots=True)
class _OrgEntry:
    revision: int
    layers: dict[tuple[str, int, str], dict[str, Any]]
    groups: dict[int, GroupSettings] = field(default_factory=dict)


class SettingsCache:
    def __init__(self, registry: FeatureRegistry) -> None:
        self._registry = registry
        self._orgs: dict[int, _OrgEntry] = {}

    async def refresh(self, session: AsyncSession, org_id: int) -> None:
        """Reload the organization's layers if its revision moved (one query when it did not)."""
        current = await revision(session, org_id)
        entry = self._orgs.get(org_id)
        if entry is None or entry.revision != current:
            self._orgs[org_id] = _OrgEntry(current, await load_layers(session, org_id))

    def for_group(self, scope: GroupScope) -> GroupSettings:
        entry = self._orgs[scope.org_id]
        cached = entry.groups.get(scope.group_id)
        if cached is None:
            cached = entry.groups[scope.group_id] = self._build(entry, scope)
        return cached

    def _build(self, entry: _OrgEntry, scope: GroupScope) -> GroupSettings:
        community_values = merge(CommunitySettings().model_dump(), entry.layers, scope,
                                 COMMUNITY_SECTION).values
        try:
            community = CommunitySettings.model_validate(community_values)
        except ValidationError:
            community = CommunitySettings()  # as for features: never stop the pipeline
        features: dict[str, FeatureSettings] = {}
        for feature in self._registry:
            defaults = feature.default_settings().model_dump()
            values = merge(defaults, entry.layers, scope, feature.name).values
            try:
                features[feature.name] = feature.settings_model.model_validate(values)
            except ValidationError:
                # Stored layers were validated when written; a feature upgrade may still
                # invalidate them. Fall back to defaults rather than stop the pipeline.
                features[feature.name] = feature.default_settings()
        return GroupSettings(community, features)
