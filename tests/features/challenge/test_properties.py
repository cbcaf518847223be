"""Whatever check-ins members send, each counts once a day, pays its daily points once, and the
completion reward is paid once, only to those who checked in every day."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.features.challenge.conftest import DAY, FIRST_DAY, add_challenge
from tests.features.redpacket.conftest import Chat

examples = itertools.count()
attempts = st.lists(st.tuples(st.sampled_from("abc"), st.integers(min_value=0, max_value=2)),
                    max_size=14)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tries=attempts)
async def test_once_a_day_and_completion_once(chat: Chat,
                                              tries: list[tuple[str, int]]) -> None:
    n = next(examples)
    await add_challenge(chat, keyword=f"打卡{n}", end_day=FIRST_DAY + timedelta(days=2),
                        completion_points=100)
    days: dict[str, set[int]] = {}
    for i, (who, day) in enumerate(sorted(tries, key=lambda t: t[1])):
        member = f"{who}{n}"  # fresh members and keyword per example: earlier ones still run
        await chat.say(member, f"打卡{n}", minutes=day * DAY + 10 + i)
        days.setdefault(member, set()).add(day)
    for member, checked in days.items():
        complete = 100 if len(checked) == 3 else 0
        assert await chat.balance(member) == 5 * len(checked) + complete
