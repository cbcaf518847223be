"""Turning the settings form's text into typed values: only changed inputs count."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from qunyun.web.group_settings import (
    SettingField,
    SettingSection,
    field_choices,
    field_kind,
    read_form,
    shown_value,
)


class Sample(BaseModel):
    points: int = 10
    ratio: float = 0.5
    keywords: list[str] = Field(default_factory=lambda: ["签到"])
    match: Literal["exact", "contains"] = "contains"
    note: str | None = None
    limit: int | None = None


def section() -> SettingSection:
    fields = []
    for key, value in Sample().model_dump().items():
        kind, nullable = field_kind(Sample, key, value)
        fields.append(SettingField(key, value, "default", kind, nullable, shown_value(kind, value),
                                   choices=field_choices(Sample, key)))
    return SettingSection("sample", "Sample", "", fields)


def test_kinds_come_from_the_model() -> None:
    kinds = {f.key: (f.kind, f.nullable) for f in section().fields}
    assert kinds == {"points": ("int", False), "ratio": ("float", False),
                     "keywords": ("json", False), "match": ("str", False),
                     "note": ("str", True), "limit": ("int", True)}
    assert field_choices(Sample, "match") == ("exact", "contains")


def test_only_changed_inputs_are_read() -> None:
    unchanged: dict[str, Any] = {f"v.{f.key}": f.shown for f in section().fields}
    assert read_form(section(), unchanged).values == {}
    changed = {**unchanged, "v.points": " 20 ", "v.ratio": "1.5",
               "v.keywords": '["签到", "打卡"]', "v.note": "你好", "v.limit": ""}
    form = read_form(section(), changed)
    assert form.values == {"points": 20, "ratio": 1.5, "keywords": ["签到", "打卡"],
                           "note": "你好"}
    assert form.errors == {}


def test_bad_text_is_refused_and_kept() -> None:
    form = read_form(section(), {"v.points": "十", "v.keywords": "[签到"})
    assert set(form.errors) == {"points", "keywords"}
    assert form.typed == {"points": "十", "keywords": "[签到"}
    assert form.errors["points"].render("en") == "must be a whole number"
