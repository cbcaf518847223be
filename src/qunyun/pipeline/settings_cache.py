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
    # Groups without layers of their own share the settings of their (community, playbook).
    shared: dict[tuple[int | None, int | None], GroupSettings] = field(default_factory=dict)
    own_layers: set[int] = field(init=False)

    def __post_init__(self) -> None:
        self.own_layers = {scope_id for scope, scope_id, _ in self.layers if scope == "group"}


class SettingsCache:
    def __init__(self, registry: FeatureRegistry) -> None:
        self._registry = registry
        self._orgs: dict[int, _OrgEntry] = {}
        self._defaults: dict[str, dict[str, Any]] | None = None

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
            if scope.group_id in entry.own_layers:
                cached = self._build(entry, scope)
            else:
                key = (scope.community_id, scope.playbook_id)
                cached = entry.shared.get(key)
                if cached is None:
                    cached = entry.shared[key] = self._build(entry, scope)
            entry.groups[scope.group_id] = cached
        return cached

    def _build(self, entry: _OrgEntry, scope: GroupScope) -> GroupSettings:
        community_values = merge(CommunitySettings().model_dump(), entry.layers, scope,
                                 COMMUNITY_SECTION).values
        try:
            community = CommunitySettings.model_validate(community_values)
        except ValidationError:
            community = CommunitySettings()  # as for features: never stop the pipeline
        if self._defaults is None:
            self._defaults = {feature.name: feature.default_settings().model_dump()
                              for feature in self._registry}
        features: dict[str, FeatureSettings] = {}
        for feature in self._registry:
            values = merge(self._defaults[feature.name], entry.layers, scope,
                           feature.name).values
            try:
                features[feature.name] = feature.settings_model.model_validate(values)
            except ValidationError:
                # Stored layers were validated when written; a feature upgrade may still
                # invalidate them. Fall back to defaults rather than stop the pipeline.
                features[feature.name] = feature.default_settings()
        return GroupSettings(community, features)
