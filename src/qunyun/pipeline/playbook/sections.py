"""Sections of the layered settings: `community` and one per feature, each validated by its model.

A layer document holds only the keys it sets; the other keys fall through to lower layers.
Validation checks the document over the model's defaults (strictly: a TOML string is not an
integer) and keeps the given keys only, as JSON-ready values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from qunyun.community.settings import COMMUNITY_SECTION, CommunitySettings
from qunyun.core.config import pydantic_errors
from qunyun.core.errors import ErrorCollector
from qunyun.core.features import FeatureRegistry

JsonDict = dict[str, Any]


def section_names(registry: FeatureRegistry) -> list[str]:
    """Every section a group has, in display order: community first, then features in order."""
    return [COMMUNITY_SECTION, *registry.names]


def section_model(registry: FeatureRegistry, section: str) -> type[BaseModel] | None:
    if section == COMMUNITY_SECTION:
        return CommunitySettings
    feature = registry.get(section)
    return feature.settings_model if feature is not None else None


def section_path(section: str) -> str:
    """The key path of a section, as in a playbook file: `community` or `features.<name>`."""
    return COMMUNITY_SECTION if section == COMMUNITY_SECTION else f"features.{section}"


def section_defaults(registry: FeatureRegistry) -> dict[str, JsonDict]:
    """The bottom layer: each section's defaults (a feature's `enabled` is its on-by-default)."""
    defaults = {COMMUNITY_SECTION: CommunitySettings().model_dump(mode="json")}
    for feature in registry:
        defaults[feature.name] = feature.default_settings().model_dump(mode="json")
    return defaults


def validate_layer(model: type[BaseModel], values: Mapping[str, Any], path: str,
                   errors: ErrorCollector) -> JsonDict | None:
    """Validate a partial document; the keys it gives, JSON-ready, or None (errors collected)."""
    try:
        validated = model.model_validate(dict(values), strict=True)
    except ValidationError as exc:
        errors.errors.extend(pydantic_errors(exc, prefix=path))
        return None
    return validated.model_dump(mode="json", include=set(values))
