"""Logical time. Features read time from the event or an injected clock, never the wall."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The wall clock. Only the composition root creates one, for live serving."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: tests and replay (where it follows event time)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        """Move to `at`; time never goes backwards."""
        if at > self._now:
            self._now = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def to_utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime; qunyun only handles aware times")
    return at.astimezone(UTC)


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=256)  # several features ask about each event's time
def local_day(at: datetime, timezone: str) -> date:
    """The calendar day `at` falls on in `timezone` (an IANA name): the day of sign-ins,
    statistics and schedules."""
    return at.astimezone(zone(timezone)).date()


def day_start(day: date, timezone: str) -> datetime:
    """The first instant of local `day` in `timezone`, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=zone(timezone)).astimezone(UTC)
