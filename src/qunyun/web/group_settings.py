"""A group's settings on its page: each value with the layer it comes from, and the form that
sets values at the group layer (only what was changed; other keys keep following lower layers).

Form fields are `v.<key>` (the value as text) and `unset.<key>` (stop overriding at the group).
Text is turned into the setting's type here; the section's model then validates it strictly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import SettingsLayer
from qunyun.community.settings import COMMUNITY_SECTION
from qunyun.core.errors import FieldError, InvalidInput
from qunyun.core.features import FeatureRegistry
from qunyun.core.i18n import N_
from qunyun.pipeline.playbook import describe_settings, section_path
from qunyun.pipeline.playbook.sections import section_model

GROUP_LAYER = "group"


@dataclass(frozen=True, slots=True)
class SettingField:
    key: str
    value: Any
    source: str
    kind: str  # bool, int, float, str or json
    nullable: bool
    shown: str  # the input's text: the value, or what was typed when it was refused
    error: str | None = None
    help: str = ""  # the model field's description
    choices: tuple[str, ...] = ()  # the allowed values, when the model lists them

    @property
    def at_group(self) -> bool:
        return self.source == GROUP_LAYER


@dataclass(frozen=True, slots=True)
class SettingSection:
    name: str
    title: str  # a message id
    description: str  # a message id
    fields: list[SettingField]
    error: str | None = None


@dataclass(slots=True)
class SettingsForm:
    """What a submitted section form asks for, and what is wrong with it."""

    values: dict[str, Any] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, FieldError] = field(default_factory=dict)


@cache
def _properties(model: type[BaseModel]) -> dict[str, Any]:
    properties: dict[str, Any] = model.model_json_schema().get("properties", {})
    return properties


def field_kind(model: type[BaseModel] | None, key: str, value: Any) -> tuple[str, bool]:
    schema = _properties(model).get(key, {}) if model is not None else {}
    types = {schema.get("type"), *(option.get("type") for option in schema.get("anyOf", []))}
    nullable = "null" in types
    if isinstance(value, bool) or types - {None, "null"} == {"boolean"}:
        return "bool", nullable
    if isinstance(value, int) or types - {None, "null"} == {"integer"}:
        return "int", nullable
    if isinstance(value, float) or types - {None, "null"} == {"number"}:
        return "float", nullable
    if isinstance(value, str) or types - {None, "null"} == {"string"}:
        return "str", nullable
    return "json", nullable


def _description(model: type[BaseModel] | None, key: str) -> str:
    if model is None:
        return ""
    return str(_properties(model).get(key, {}).get("description", ""))


def field_choices(model: type[BaseModel] | None, key: str) -> tuple[str, ...]:
    """The values of a string field limited to a list (a Literal or an Enum)."""
    schema = _properties(model).get(key, {}) if model is not None else {}
    for option in (schema, *schema.get("anyOf", [])):
        if isinstance(option.get("enum"), list):
            return tuple(str(v) for v in option["enum"])
    return ()


def shown_value(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "json":
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _section_title(registry: FeatureRegistry, section: str) -> tuple[str, str]:
    if section == COMMUNITY_SECTION:
        return N_("Community"), N_("Time zone and language of the group's community.")
    feature = registry.get(section)
    return (feature.title, feature.description) if feature else (section, "")


async def settings_sections(session: AsyncSession, registry: FeatureRegistry, *, org_id: int,
                            group_id: int, edited: str | None = None,
                            form: SettingsForm | None = None,
                            locale: str = "zh_CN") -> list[SettingSection]:
    """Every section with its effective values; the `edited` one shows `form`'s typed text
    and errors."""
    described = await describe_settings(session, registry, group_id=group_id, org_id=org_id)
    sections = []
    for name, values in described.items():
        model = section_model(registry, name)
        typed = form if form is not None and name == edited else SettingsForm()
        fields = []
        for key, item in values.items():
            kind, nullable = field_kind(model, key, item["value"])
            error = typed.errors.get(key)
            fields.append(SettingField(
                key, item["value"], item["source"], kind, nullable,
                typed.typed.get(key, shown_value(kind, item["value"])),
                error.render(locale) if error else None, _description(model, key),
                field_choices(model, key) if kind == "str" else ()))
        title, description = _section_title(registry, name)
        general = typed.errors.get("")
        sections.append(SettingSection(name, title, description, fields,
                                       general.render(locale) if general else None))
    return sections


def _convert(kind: str, nullable: bool, raw: str) -> Any:
    """The typed value of an input's text; ValueError with a message id when it is not one."""
    text = raw.strip()
    if text == "" and nullable:
        return None
    if kind == "bool":
        if text not in ("true", "false"):
            raise ValueError(N_("choose yes or no"))
        return text == "true"
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(N_("must be a whole number")) from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError(N_("must be a number")) from None
    if kind == "str":
        return raw
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(N_("must be valid JSON, e.g. [\"a\", \"b\"] or {\"key\": 1}")) from None


def read_form(section: SettingSection, submitted: Mapping[str, str]) -> SettingsForm:
    """The changed values and the keys to unset; unchanged inputs are left alone."""
    form = SettingsForm()
    for item in section.fields:
        raw = submitted.get(f"v.{item.key}")
        if item.at_group and submitted.get(f"unset.{item.key}") == "1":
            form.unset.append(item.key)
            continue
        if raw is None or raw == item.shown:
            continue
        form.typed[item.key] = raw
        try:
            form.values[item.key] = _convert(item.kind, item.nullable, raw)
        except ValueError as exc:
            form.errors[item.key] = FieldError("", str(exc))
    return form


def file_errors(form: SettingsForm, section: str, exc: InvalidInput) -> None:
    """Put the service's errors (`features.<name>.<key>: reason`) next to their inputs."""
    prefix = section_path(section) + "."
    for error in exc.errors:
        key = error.path.removeprefix(prefix).split(".", 1)[0] if error.path.startswith(
            prefix) else ""
        form.errors.setdefault(key, FieldError("", error.reason, error.params))
    if not exc.errors:
        form.errors[""] = FieldError("", exc.message, tuple(sorted(exc.params.items())))


async def group_layer(session: AsyncSession, org_id: int, group_id: int,
                      section: str) -> dict[str, Any]:
    values = await session.scalar(select(SettingsLayer.values).where(
        SettingsLayer.org_id == org_id, SettingsLayer.scope == GROUP_LAYER,
        SettingsLayer.scope_id == group_id, SettingsLayer.feature == section))
    return dict(values or {})
