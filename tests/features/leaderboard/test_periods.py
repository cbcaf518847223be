"""Reading the command's words and the local days of a period (no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qunyun.core.errors import InvalidInput
from qunyun.features.leaderboard.periods import BoardRequest, parse_request, period_days


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
def test_periods_contain_the_day(today: date) -> None:
    day = period_days("day", today)
    week = period_days("week", today)
    month = period_days("month", today)
    assert day == (today, today + timedelta(days=1))
    assert week is not None and week[0].weekday() == 0 and week[1] - week[0] == timedelta(7)
    assert week[0] <= today < week[1]
    assert month is not None and month[0].day == 1 and month[1].day == 1
    assert month[0] <= today < month[1] and month[0].month == today.month
    assert period_days("all", today) is None


@pytest.mark.parametrize(("argument", "expected"), [
    ("", BoardRequest("week", "points", "group")),
    ("今日", BoardRequest("day", "points", "group")),
    ("本周签到全群", BoardRequest("week", "signins", "community")),
    ("发言 月", BoardRequest("month", "messages", "group")),
    ("ALL Community signins", BoardRequest("all", "signins", "community")),
    ("总 本群", BoardRequest("all", "points", "group")),
])
def test_words_in_any_order(argument: str, expected: BoardRequest) -> None:
    assert parse_request(argument, period="week", metric="points") == expected


def test_an_unknown_word_is_named() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_request("本周 红包", period="week", metric="points")
    assert raised.value.params == {"word": "红包"}
