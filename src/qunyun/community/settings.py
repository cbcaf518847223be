"""Layered settings: feature defaults → organization → community → playbook → group.

Each layer is a JSON document per feature (`settings_layers`). The effective settings of a group
merge them key by key and remember which layer each value came from, so the dashboard can say
where a value is set. `community` is the section of community-wide settings (timezone, language);
it is layered the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Community, Organization, SettingsLayer

ORGANIZATION = "organization"
SCOPES = (ORGANIZATION, "community", "playbook", "group")
LANGUAGES = ("zh_CN", "en")
COMMUNITY_SECTION = "community"


class CommunitySettings(BaseModel):
    """Community-wide settings every feature reads: the day boundary and the bot's language."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "Asia/Shanghai"
    language: str = "zh_CN"
    # "private": the bot answers a member's message in a private message (小窗) instead of in
    # the group, so answers do not flood it (答疑私聊 mode).
    answers: Literal["group", "private"] = "group"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PydanticCustomError("unknown_timezone", "unknown IANA time zone: {zone}",
                                      {"zone": value}) from exc
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise PydanticCustomError("unknown_language", "must be one of: {choices}",
                                      {"choices": ", ".join(LANGUAGES)})
        return value


@dataclass(frozen=True, slots=True)
class GroupScope:
    """Where a group sits, which decides which layers apply to it."""

    org_id: int
    community_id: int | None
    playbook_id: int | None
    group_id: int

    def chain(self) -> list[tuple[str, int | None]]:
        return [("organization", self.org_id), ("community", self.community_id),
                ("playbook", self.playbook_id), ("group", self.group_id)]


@dataclass(frozen=True, slots=True)
class Effective:
    """A section's merged values and, per key, the layer it came from ('default' if none)."""

    values: dict[str, Any]
    sources: dict[str, str]


LayerIndex = Mapping[tuple[str, int, str], Mapping[str, Any]]


async def load_layers(session: AsyncSession, org_id: int) -> dict[tuple[str, int, str],
                                                                   dict[str, Any]]:
    """Every layer document of an organization. The time zone and language set on the
    organization and community records count as their layers' `community` section."""
    layers: dict[tuple[str, int, str], dict[str, Any]] = {}
    org = await session.execute(select(Organization.timezone, Organization.language)
                                .where(Organization.id == org_id))
    for timezone, language in org:
        layers[("organization", org_id, COMMUNITY_SECTION)] = _given(timezone, language)
    communities = await session.execute(
        select(Community.id, Community.timezone, Community.language)
        .where(Community.org_id == org_id))
    for community_id, zone, lang in communities:
        if zone or lang:
            layers[("community", community_id, COMMUNITY_SECTION)] = _given(zone, lang)
    rows = await session.execute(
        select(SettingsLayer.scope, SettingsLayer.scope_id, SettingsLayer.feature,
               SettingsLayer.values).where(SettingsLayer.org_id == org_id))
    for scope, scope_id, feature, values in rows:
        layers[(scope, scope_id, feature)] = {**layers.get((scope, scope_id, feature), {}),
                                              **values}
    return layers


def _given(timezone: str | None, language: str | None) -> dict[str, Any]:
    return {k: v for k, v in (("timezone", timezone), ("language", language)) if v}


def merge(defaults: Mapping[str, Any], layers: LayerIndex, scope: GroupScope,
          section: str) -> Effective:
    """Merge one section's layers over its defaults for a group (top-level keys replace)."""
    values = dict(defaults)
    sources = dict.fromkeys(defaults, "default")
    for layer, layer_id in scope.chain():
        if layer_id is None:
            continue
        for key, value in layers.get((layer, layer_id, section), {}).items():
            values[key] = value
            sources[key] = layer
    return Effective(values, sources)


async def revision(session: AsyncSession, org_id: int) -> int:
    value = await session.scalar(
        select(Organization.settings_revision).where(Organization.id == org_id))
    return int(value or 0)


async def bump_revision(session: AsyncSession, org_id: int) -> None:
    await session.execute(update(Organization).where(Organization.id == org_id)
                          .values(settings_revision=Organization.settings_revision + 1))


async def do_set_layer(session: AsyncSession, *, org_id: int, scope: str, scope_id: int,
                       feature: str, values: dict[str, Any], at: datetime) -> None:
    """Replace one layer's document (values already validated by the caller)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown settings scope {scope!r}")
    layer = await session.scalar(select(SettingsLayer).where(
        SettingsLayer.org_id == org_id, SettingsLayer.scope == scope,
        SettingsLayer.scope_id == scope_id, SettingsLayer.feature == feature))
    if layer is None:
        session.add(SettingsLayer(org_id=org_id, scope=scope, scope_id=scope_id, feature=feature,
                                  values=values, updated_at=at))
    else:
        layer.values = values
        layer.updated_at = at
    await session.flush()
    await bump_revision(session, org_id)


async def do_clear_scope(session: AsyncSession, *, org_id: int, scope: str,
                         scope_id: int) -> None:
    """Remove every layer document of one scope (used when a playbook is re-applied)."""
    rows = await session.scalars(select(SettingsLayer).where(
        SettingsLayer.org_id == org_id, SettingsLayer.scope == scope,
        SettingsLayer.scope_id == scope_id))
    for layer in rows:
        await session.delete(layer)
    await session.flush()
    await bump_revision(session, org_id)
