"""The JSON Schema of a whole playbook file, built from the registered features' models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from qunyun.community.settings import CommunitySettings
from qunyun.core.features import FeatureRegistry
from qunyun.pipeline.playbook.spec import NAME_MAX_LENGTH

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def playbook_schema(registry: FeatureRegistry) -> dict[str, Any]:
    """version, name, community and one `features.<name>` table per registered feature."""
    features = _features_model(registry)
    playbook: type[BaseModel] = create_model(
        "Playbook",
        __config__=ConfigDict(extra="forbid"),
        version=(Literal[1], Field(description="The playbook format version.")),
        name=(str, Field(min_length=1, max_length=NAME_MAX_LENGTH,
                         description="The playbook's name, unique in its organization.")),
        community=(CommunitySettings, Field(default_factory=CommunitySettings,
                                            description="Community-wide settings.")),
        features=(features, Field(default_factory=features,
                                  description="One table per feature.")),
    )
    schema = playbook.model_json_schema()
    _set_enabled_defaults(schema, registry)
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": "qunyun playbook, version 1"}


def _features_model(registry: FeatureRegistry) -> type[BaseModel]:
    fields: dict[str, Any] = {
        feature.name: (feature.settings_model,
                       Field(default_factory=feature.settings_model, title=feature.title,
                             description=feature.description))
        for feature in registry
    }
    model: type[BaseModel] = create_model("Features", __config__=ConfigDict(extra="forbid"),
                                          **fields)
    return model


def _set_enabled_defaults(schema: dict[str, Any], registry: FeatureRegistry) -> None:
    """A feature's `enabled` defaults to whether it is on by default, not to its model's value."""
    definitions = schema.get("$defs", {})
    properties = definitions.get("Features", {}).get("properties", {})
    for feature in registry:
        reference = properties.get(feature.name, {}).get("$ref", "")
        model_schema = definitions.get(reference.rsplit("/", 1)[-1], {})
        enabled = model_schema.get("properties", {}).get("enabled")
        if isinstance(enabled, dict):
            enabled["default"] = feature.on_by_default
