"""A group's highlights settings and time zone, read outside the pipeline (dashboard, CLI),
merged from the layers as the pipeline merges them."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group
from qunyun.community.settings import (
    COMMUNITY_SECTION,
    CommunitySettings,
    GroupScope,
    load_layers,
    merge,
)
from qunyun.features.highlights.settings import HighlightsSettings, digest_time
from qunyun.features.highlights.weeks import DigestTime

SECTION = "highlights"


@dataclass(frozen=True, slots=True)
class GroupHighlightsSettings:
    settings: HighlightsSettings
    timezone: str
    language: str

    @property
    def time(self) -> DigestTime:
        return digest_time(self.settings, self.timezone)


async def group_highlights_settings(session: AsyncSession,
                                    group: Group) -> GroupHighlightsSettings:
    layers = await load_layers(session, group.org_id)
    scope = GroupScope(group.org_id, group.community_id, group.playbook_id, group.id)
    community_values = merge(CommunitySettings().model_dump(), layers, scope,
                             COMMUNITY_SECTION).values
    values = merge(HighlightsSettings().model_dump(), layers, scope, SECTION).values
    # Invalid stored layers count as defaults, as in the pipeline.
    try:
        community = CommunitySettings.model_validate(community_values)
    except ValidationError:
        community = CommunitySettings()
    try:
        settings = HighlightsSettings.model_validate(values)
    except ValidationError:
        settings = HighlightsSettings()
    return GroupHighlightsSettings(settings, community.timezone, community.language)
