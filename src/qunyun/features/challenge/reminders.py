"""When a challenge's daily reminder fires in a group: at the reminder hour (local time) of each
day of the challenge. One job per group and day; each fired job schedules the next day's, and
every check-in schedules the next one too (so a group that joins a community-wide challenge
later still gets reminders). The key names the hour: after staff change the hour, jobs for the
old hour find it changed and do nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from qunyun.core.clock import day_start, local_day
from qunyun.core.features import JobRequest

REMIND = "remind"


def next_reminder(*, start_day: date, end_day: date, hour: int | None, timezone: str,
                  after: datetime) -> tuple[date, datetime] | None:
    """The first reminder strictly after `after`: (local day, due time); None when none is left."""
    if hour is None:
        return None
    day = max(start_day, local_day(after, timezone))
    while day <= end_day:
        due = day_start(day, timezone) + timedelta(hours=hour)
        if due > after:
            return day, due
        day += timedelta(days=1)
    return None


def reminder_job(*, challenge_id: int, group_id: int, day: date, hour: int,
                 due: datetime) -> JobRequest:
    return JobRequest(REMIND, due, {"challenge_id": challenge_id, "day": day.isoformat(),
                                    "hour": hour},
                      key=f"remind:{challenge_id}:{group_id}:{day.isoformat()}:{hour}")
