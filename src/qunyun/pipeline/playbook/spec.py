"""Reading a playbook file (TOML, version 1) into a validated `PlaybookSpec`.

Every problem is collected and reported at once, each with its key path
(`features.signin.points: must be a positive integer`); a TOML syntax error gives its line and
column. A spec is only ever built from a document without errors.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from qunyun.community.settings import COMMUNITY_SECTION, CommunitySettings
from qunyun.core.errors import ErrorCollector, InvalidInput
from qunyun.core.features import FeatureRegistry
from qunyun.pipeline.playbook.sections import JsonDict, section_path, validate_layer

PLAYBOOK_VERSION = 1
NAME_MAX_LENGTH = 200  # playbooks.name
TOP_LEVEL_KEYS = ("version", "name", COMMUNITY_SECTION, "features")
_POSITION = re.compile(r"^(?P<reason>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$",
                       re.DOTALL)


@dataclass(frozen=True, slots=True)
class PlaybookSpec:
    """A valid playbook: its name and, per section, the keys it sets (JSON-ready values).

    Sections are `community` and feature names, the same names as the settings layers use.
    """

    name: str
    sections: Mapping[str, JsonDict] = field(default_factory=dict)
    version: int = PLAYBOOK_VERSION

    @property
    def features(self) -> list[str]:
        return [s for s in self.sections if s != COMMUNITY_SECTION]


def parse_playbook(text: str, registry: FeatureRegistry) -> PlaybookSpec:
    """Parse and validate a playbook against the features `registry` holds."""
    document = _load_toml(text)
    errors = ErrorCollector()
    _check_version(document.get("version"), errors)
    name = _check_name(document.get("name"), errors)
    sections: dict[str, JsonDict] = {}
    for key, value in document.items():
        if key == COMMUNITY_SECTION:
            _read_section(CommunitySettings, COMMUNITY_SECTION, value, sections, errors)
        elif key == "features":
            _read_features(value, registry, sections, errors)
        elif key not in TOP_LEVEL_KEYS:
            errors.add(key, "unknown key")
    if errors:
        raise InvalidInput("the playbook is not valid", errors=errors.errors)
    assert name is not None
    return PlaybookSpec(name=name, sections=sections)


def _load_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(str(exc), text) from exc


def _syntax_error(message: str, text: str) -> InvalidInput:
    """tomllib says where as '(at line L, column C)' or '(at end of document)'."""
    match = _POSITION.match(message)
    if match is not None:
        line, column, reason = int(match["line"]), int(match["column"]), match["reason"]
    else:
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        reason = message.removesuffix(" (at end of document)")
    errors = ErrorCollector()
    errors.add("", "line {line}, column {column}: {problem}", line=line, column=column,
               problem=reason)
    return InvalidInput("the playbook is not valid TOML", errors=errors.errors)


def _check_version(value: Any, errors: ErrorCollector) -> None:
    if value is None:
        errors.add("version", "is required")
    elif isinstance(value, bool) or not isinstance(value, int):
        errors.add("version", "must be an integer")
    elif value != PLAYBOOK_VERSION:
        errors.add("version", "unsupported version {version}: this qunyun reads version {known}",
                   version=value, known=PLAYBOOK_VERSION)


def _check_name(value: Any, errors: ErrorCollector) -> str | None:
    if value is None:
        errors.add("name", "is required")
    elif not isinstance(value, str):
        errors.add("name", "must be a string")
    elif not value.strip():
        errors.add("name", "must not be empty")
    elif len(value.strip()) > NAME_MAX_LENGTH:
        errors.add("name", "must be at most {limit} characters", limit=NAME_MAX_LENGTH)
    else:
        return value.strip()
    return None


def _read_features(value: Any, registry: FeatureRegistry, sections: dict[str, JsonDict],
                   errors: ErrorCollector) -> None:
    if not isinstance(value, dict):
        errors.add("features", "must be a table")
        return
    for name, table in value.items():
        feature = registry.get(name)
        if feature is None:
            errors.add(f"features.{name}", "unknown feature")
            continue
        _read_section(feature.settings_model, name, table, sections, errors)


def _read_section(model: type[BaseModel], section: str, table: Any, sections: dict[str, JsonDict],
                  errors: ErrorCollector) -> None:
    path = section_path(section)
    if not isinstance(table, dict):
        errors.add(path, "must be a table")
        return
    values = validate_layer(model, table, path, errors)
    if values is not None:
        sections[section] = values
