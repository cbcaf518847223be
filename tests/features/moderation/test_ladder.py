"""The ladder: parsing steps, the step an offence count earns, what the member is told."""

from __future__ import annotations

import pytest

from qunyun.features.moderation.ladder import (
    BLOCK,
    DELETE,
    KICK,
    MUTE,
    WARN,
    Step,
    StepError,
    duration_text,
    notice,
    parse_step,
    step_for,
)

LADDER = [parse_step(s) for s in ("warn", "warn", "mute:600", "mute:86400", "kick")]


def test_steps_parse_and_print_back() -> None:
    for text in ("delete", "warn", "mute:600", "kick", "block"):
        assert str(parse_step(text)) == text
    assert parse_step(" mute:3600 ") == Step(MUTE, 3600)
    assert parse_step("block").removes and parse_step("kick").removes
    assert not parse_step("warn").removes


@pytest.mark.parametrize(("text", "reason"), [
    ("ban", "unknown step"), ("mute", "needs its length"), ("mute:abc", "needs its length"),
    ("mute:30", "from 60"), ("mute:99999999", "from 60"), ("warn:2", "takes no value"),
    ("mute:６００", "needs its length"),
])
def test_bad_steps_say_why(text: str, reason: str) -> None:
    with pytest.raises(StepError) as caught:
        parse_step(text)
    assert reason in caught.value.reason


def test_each_offence_earns_the_next_step_and_the_last_repeats() -> None:
    kinds = [str(step_for(LADDER, n)) for n in range(7)]
    assert kinds == ["warn", "warn", "mute:600", "mute:86400", "kick", "kick", "kick"]
    assert step_for([], 3) == Step(DELETE)


def test_the_notice_names_the_rule_and_the_consequence() -> None:
    assert "warning 2" in notice(Step(WARN), rule="links", offences=2, locale="en")
    assert "10 minutes" in notice(Step(MUTE, 600), rule="links", offences=3, locale="en")
    assert "1 day" in notice(Step(MUTE, 86400), rule="links", offences=3, locale="en")
    assert "removed from the group" in notice(Step(KICK), rule="x", offences=5, locale="en")
    assert "may not rejoin" in notice(Step(BLOCK), rule="x", offences=5, locale="en")
    text = notice(Step(WARN), rule="links", offences=1, locale="en")
    assert "(links)" in text and "申诉" in text


def test_durations() -> None:
    assert duration_text(600, "en") == "10 minutes"
    assert duration_text(7200, "en") == "2 hours"
    assert duration_text(3 * 86400, "en") == "3 days"
