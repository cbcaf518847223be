"""Writing settings: applying a playbook to groups, and setting keys at one layer.

Services never commit (the caller's unit of work does) and take the time from the caller.
Everything is checked before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Community, Group, Playbook, SettingsLayer
from qunyun.community.settings import bump_revision, do_set_layer
from qunyun.core.errors import ErrorCollector, InvalidInput, NotFound
from qunyun.core.features import FeatureRegistry
from qunyun.pipeline.playbook.sections import (
    JsonDict,
    section_model,
    section_path,
    validate_layer,
)
from qunyun.pipeline.playbook.selection import check_groups_of_org
from qunyun.pipeline.playbook.spec import PlaybookSpec

PLAYBOOK_SCOPE = "playbook"
EDITABLE_SCOPES = ("organization", "community", "group")


async def do_apply_playbook(session: AsyncSession, *, org_id: int, spec: PlaybookSpec,
                            source_text: str, group_ids: Iterable[int],
                            at: datetime) -> Playbook:
    """Store the playbook (by name), replace its layer, point the groups at it.

    Every group already using the playbook follows the new version too.
    """
    groups = await check_groups_of_org(session, org_id=org_id, group_ids=group_ids)
    playbook = await _upsert_playbook(session, org_id=org_id, name=spec.name,
                                      source_text=source_text, at=at)
    await _replace_layers(session, org_id=org_id, playbook_id=playbook.id,
                          sections=spec.sections, at=at)
    await session.execute(update(Group).where(Group.org_id == org_id, Group.id.in_(groups))
                          .values(playbook_id=playbook.id))
    await bump_revision(session, org_id)
    return playbook


async def _upsert_playbook(session: AsyncSession, *, org_id: int, name: str, source_text: str,
                           at: datetime) -> Playbook:
    playbook = await session.scalar(select(Playbook).where(Playbook.org_id == org_id,
                                                           Playbook.name == name))
    if playbook is None:
        playbook = Playbook(org_id=org_id, name=name, source=source_text, updated_at=at)
        session.add(playbook)
    else:
        playbook.source = source_text
        playbook.updated_at = at
    await session.flush()
    return playbook


async def _replace_layers(session: AsyncSession, *, org_id: int, playbook_id: int,
                          sections: Mapping[str, JsonDict], at: datetime) -> None:
    """Update the sections the playbook has, add new ones, delete the ones it no longer has."""
    rows = await session.scalars(select(SettingsLayer).where(
        SettingsLayer.org_id == org_id, SettingsLayer.scope == PLAYBOOK_SCOPE,
        SettingsLayer.scope_id == playbook_id))
    existing = {layer.feature: layer for layer in rows}
    for section, values in sections.items():
        layer = existing.pop(section, None)
        if layer is None:
            session.add(SettingsLayer(org_id=org_id, scope=PLAYBOOK_SCOPE, scope_id=playbook_id,
                                      feature=section, values=dict(values), updated_at=at))
        else:
            layer.values = dict(values)
            layer.updated_at = at
    for stale in existing.values():
        await session.delete(stale)
    await session.flush()


async def do_set_layer_values(session: AsyncSession, registry: FeatureRegistry, *, org_id: int,
                              scope: str, scope_id: int, section: str,
                              values: Mapping[str, Any], at: datetime,
                              unset: Iterable[str] = ()) -> JsonDict:
    """Set some keys of one section at one layer (the others stay), or remove keys (`unset`).

    The resulting document is validated like a playbook table; it is returned as stored.
    """
    if scope not in EDITABLE_SCOPES:
        raise InvalidInput("settings are set for an organization, a community or a group, "
                           "not for a {scope}", scope=scope)
    await _check_scope(session, org_id=org_id, scope=scope, scope_id=scope_id)
    path = section_path(section)
    errors = ErrorCollector()
    model = section_model(registry, section)
    if model is None:
        errors.add(path, "unknown feature")
        raise InvalidInput("the settings are not valid", errors=errors.errors)
    current = await session.scalar(select(SettingsLayer.values).where(
        SettingsLayer.org_id == org_id, SettingsLayer.scope == scope,
        SettingsLayer.scope_id == scope_id, SettingsLayer.feature == section))
    document = {**(current or {}), **values}
    for key in unset:
        if key not in document:
            errors.add(f"{path}.{key}", "is not set at this layer")
        document.pop(key, None)
    stored = validate_layer(model, document, path, errors)
    if errors or stored is None:
        raise InvalidInput("the settings are not valid", errors=errors.errors)
    await do_set_layer(session, org_id=org_id, scope=scope, scope_id=scope_id, feature=section,
                       values=stored, at=at)
    return stored


async def do_set_group_setting(session: AsyncSession, registry: FeatureRegistry, *,
                               org_id: int, group_id: int, section: str,
                               values: Mapping[str, Any], at: datetime,
                               unset: Iterable[str] = ()) -> JsonDict:
    """A group override: the top layer, above the group's playbook."""
    return await do_set_layer_values(session, registry, org_id=org_id, scope="group",
                                     scope_id=group_id, section=section, values=values, at=at,
                                     unset=unset)


async def _check_scope(session: AsyncSession, *, org_id: int, scope: str, scope_id: int) -> None:
    if scope == "organization":
        found = scope_id == org_id
    elif scope == "community":
        found = await session.scalar(select(Community.id).where(
            Community.org_id == org_id, Community.id == scope_id)) is not None
    else:
        found = await session.scalar(select(Group.id).where(
            Group.org_id == org_id, Group.id == scope_id)) is not None
    if not found:
        raise NotFound("no {scope} {id} in this organization", scope=scope, id=scope_id)
