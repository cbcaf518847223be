"""What a leaderboard command asks for (`排行榜 本周 签到 全群`), and the local days of a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from qunyun.core.commands import normalize
from qunyun.core.errors import InvalidInput

DAY, WEEK, MONTH, ALL = "day", "week", "month", "all"
POINTS, SIGNINS, MESSAGES = "points", "signins", "messages"
GROUP, COMMUNITY = "group", "community"
PERIODS = (DAY, WEEK, MONTH, ALL)
METRICS = (POINTS, SIGNINS, MESSAGES)
SCOPES = (GROUP, COMMUNITY)

# What members may type after the keyword, in any order: word -> (kind, value).
WORDS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("日", "今日", "今天", "day", "today"), ("period", DAY)),
    **dict.fromkeys(("周", "本周", "week"), ("period", WEEK)),
    **dict.fromkeys(("月", "本月", "month"), ("period", MONTH)),
    **dict.fromkeys(("总", "总榜", "累计", "all", "total"), ("period", ALL)),
    **dict.fromkeys(("积分", "points"), ("metric", POINTS)),
    **dict.fromkeys(("签到", "signins", "signin"), ("metric", SIGNINS)),
    **dict.fromkeys(("发言", "消息", "messages"), ("metric", MESSAGES)),
    **dict.fromkeys(("本群", "group"), ("scope", GROUP)),
    **dict.fromkeys(("全群", "社群", "community"), ("scope", COMMUNITY)),
}
_LONGEST = sorted(WORDS, key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class BoardRequest:
    period: str
    metric: str
    scope: str


def parse_request(argument: str, *, period: str, metric: str,
                  scope: str = GROUP) -> BoardRequest:
    """Read the words after the keyword over the defaults. Chinese words may be run together
    (`本周签到`); an unknown word is InvalidInput naming it."""
    chosen = {"period": period, "metric": metric, "scope": scope}
    for token in normalize(argument).split():
        rest = token
        while rest:
            word = next((w for w in _LONGEST if rest.startswith(w)), None)
            if word is None:
                raise InvalidInput("unknown leaderboard option: {word}", word=rest)
            kind, value = WORDS[word]
            chosen[kind] = value
            rest = rest[len(word):]
    return BoardRequest(chosen["period"], chosen["metric"], chosen["scope"])


def period_days(period: str, today: date) -> tuple[date, date] | None:
    """The local days [first, end) of the period containing `today`; None for all time.
    Weeks start on Monday."""
    if period == DAY:
        return today, today + timedelta(days=1)
    if period == WEEK:
        first = today - timedelta(days=today.weekday())
        return first, first + timedelta(days=7)
    if period == MONTH:
        first = today.replace(day=1)
        return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return None
