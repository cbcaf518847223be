"""Digest weeks. The digest of ISO week W is posted in W at the configured weekday and local
hour, and covers the seven days before it: from that moment in week W-1 up to that moment in W.
The dashboard and the exports cut weeks the same way, so they show what the group was sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from qunyun.core.clock import zone
from qunyun.core.errors import InvalidInput

WEEK_PATTERN = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True, order=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """`2026-W47` (or `2026W47`); anything else, or a week the year lacks, is refused."""
        found = WEEK_PATTERN.match(text.strip())
        if found is not None:
            year, number = int(found[1]), int(found[2])
            try:
                date.fromisocalendar(year, number, 1)
            except ValueError:
                pass
            else:
                return cls(year, number)
        raise InvalidInput("a week is written like 2026-W47, not {week}", week=text)

    @classmethod
    def of(cls, day: date) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def day(self, weekday: int) -> date:
        """The date of `weekday` (0 = Monday … 6 = Sunday) in this week."""
        return date.fromisocalendar(self.year, self.number, weekday + 1)

    def shift(self, weeks: int) -> Week:
        return Week.of(self.day(0) + timedelta(weeks=weeks))

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class DigestTime:
    """When digests go out: a weekday and a local hour in a time zone."""

    weekday: int
    hour: int
    timezone: str

    def moment(self, week: Week) -> datetime:
        """The digest moment of `week`, in UTC."""
        day = week.day(self.weekday)
        local = datetime(day.year, day.month, day.day, self.hour, tzinfo=zone(self.timezone))
        return local.astimezone(UTC)

    def period(self, week: Week) -> tuple[datetime, datetime]:
        """The half-open span [start, end) the digest of `week` covers, in UTC."""
        return self.moment(week.shift(-1)), self.moment(week)

    def week_of(self, at: datetime) -> Week:
        """The week whose digest covers `at`: the first one whose moment is after it."""
        week = Week.of(at.astimezone(zone(self.timezone)).date())
        return week if self.moment(week) > at else week.shift(1)
