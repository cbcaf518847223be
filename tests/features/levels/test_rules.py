"""The ladder's rules and the settings' validation (no database)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from qunyun.features.levels.ladder import level_for, target_level
from qunyun.features.levels.plugin import LevelsSettings, usage

THRESHOLDS = [0, 100, 500, 2000, 5000]


@given(st.integers(0, 4), st.integers(0, 10_000), st.floats(0.1, 1.0))
def test_without_demotion_a_level_never_goes_down(current: int, value: int,
                                                  hysteresis: float) -> None:
    target = target_level(current, value, THRESHOLDS, demotion=False, hysteresis=hysteresis)
    assert target == max(current, level_for(value, THRESHOLDS))


@given(st.integers(0, 4), st.integers(0, 10_000), st.floats(0.1, 1.0))
def test_with_demotion_a_level_is_kept_within_the_margin(current: int, value: int,
                                                         hysteresis: float) -> None:
    target = target_level(current, value, THRESHOLDS, demotion=True, hysteresis=hysteresis)
    reached = level_for(value, THRESHOLDS)
    if value >= THRESHOLDS[current] * hysteresis:
        assert target == max(current, reached)
    else:
        assert target == reached < current


def test_a_shortened_ladder_caps_the_level() -> None:
    assert target_level(7, 50, [0, 10], demotion=False, hysteresis=0.9) == 1


@pytest.mark.parametrize(("values", "path", "reason"), [
    ({"levels": []}, "levels", "needs at least one level"),
    ({"levels": [{"name": "a", "threshold": 5}]}, "levels", "the first level's threshold"),
    ({"levels": [{"name": "a", "threshold": 0}, {"name": "b", "threshold": 0}]}, "levels",
     "thresholds must go up: b after a"),
    ({"levels": [{"name": "a", "threshold": 0}, {"name": "a", "threshold": 9}]}, "levels",
     "level names must differ"),
    ({"levels": [{"name": "", "threshold": 0}]}, "levels.0.name", "at least 1 character"),
    ({"basis": "money"}, "basis", "'points' or 'activity'"),
    ({"hysteresis": 1.5}, "hysteresis", "less than or equal to 1"),
    ({"congratulation": "恭喜 {who}"}, "congratulation", "only {name} {level} may be used"),
    ({"badges": ["gold"]}, "badges", "unknown badge: gold"),
    ({"keywords": ["我的 等级"]}, "keywords", "single words"),
    ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
])
def test_bad_settings_name_the_key_and_the_reason(values: dict[str, Any], path: str,
                                                  reason: str) -> None:
    with pytest.raises(ValidationError) as raised:
        LevelsSettings.model_validate(values)
    [error] = raised.value.errors()
    assert ".".join(str(p) for p in error["loc"]) == path
    assert reason in error["msg"]


def test_defaults_and_usage() -> None:
    settings = LevelsSettings()
    assert [level.name for level in settings.levels] == ["实习生", "助理", "主管", "经理", "总监"]
    assert not settings.enabled and settings.basis == "points" and not settings.demotion
    assert usage(settings, "en") == [
        "我的等级: your level, how far to the next one, and your badges"]
