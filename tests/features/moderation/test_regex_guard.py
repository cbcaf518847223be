"""Operators' regexes: errors with their position, catastrophic patterns guarded."""

from __future__ import annotations

import pytest

from qunyun.core.errors import InvalidInput
from qunyun.features.moderation.regex_guard import MAX_PATTERN_CHARS, compile_guarded


def test_a_valid_pattern_searches_case_insensitively() -> None:
    guarded = compile_guarded(r"vx\d+", path="regexes.0.pattern")
    assert guarded.search("加VX123") == (1, 6)
    assert guarded.search("nothing") is None
    assert guarded.pattern == r"vx\d+"


@pytest.mark.parametrize(("pattern", "reason"), [
    ("ab(cd", "missing ) at character 6"),
    ("a{3,1}", "min repeat greater than max repeat at character 3"),
    ("[abc", "unterminated character set at character 5"),
    ("ab)c", "unbalanced parenthesis at character 3"),
])
def test_errors_name_the_path_and_position(pattern: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compile_guarded(pattern, path="regexes.2.pattern")
    (error,) = caught.value.errors
    assert error.path == "regexes.2.pattern"
    assert reason in str(error)
    assert "⟵" in str(error)


@pytest.mark.parametrize("pattern", ["", "   ", "a*", "x?|y?", "a" * (MAX_PATTERN_CHARS + 1)])
def test_empty_long_or_match_everything_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidInput):
        compile_guarded(pattern, path="p")


def test_catastrophic_backtracking_gives_up_without_a_match() -> None:
    guarded = compile_guarded(r"^(a|aa)+$", path="p")
    assert guarded.search("a" * 64 + "!") is None
    assert guarded.timeouts == 1
    assert guarded.search("aaaa") == (0, 4)
    assert guarded.timeouts == 1
