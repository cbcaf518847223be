"""Group modes: all-mute (全体禁言: teachers speak, members listen) and night mode (quiet hours).

While a mode is on, only its `speakers` roles talk. Where the platform has a mute-all switch
(`group.mute_all`) moderation turns it on when the mode starts and off when it ends (a platform
without one gets a staff task from the pipeline); a message of anyone else that still arrives is
deleted. The start and end are announced in the group.

The switch happens on the group's next message or job after the mode changes. Quiet hours are
driven by scheduled jobs at their start and end (community time); each fired job schedules the
next boundary, and every message schedules it too (a key per boundary makes that a no-op when
it is already planned). A job whose hours no longer match the settings does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.actions import DELETE_MESSAGE, MUTE_ALL, ActionRequest, send_message
from qunyun.core.clock import day_start, local_day
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import gettext
from qunyun.features.moderation.models import ModerationGroupMode
from qunyun.features.moderation.settings import AllMuteMode, ModerationSettings, NightMode

ALL_MUTE = "all_mute"
NIGHT = "night"
NIGHT_START = "night.start"  # job kinds
NIGHT_END = "night.end"
MODE_SYNC = "mode.sync"  # the dashboard changed a mode: switch now
SCRATCH = "moderation.modes"


@dataclass(slots=True)
class ModeState:
    reason: str  # the mode in force as last announced ("" for none)
    muted: bool  # the platform's mute-all was turned on by us


def _minutes(clock_time: str) -> int:
    hours, minutes = clock_time.split(":")
    return int(hours) * 60 + int(minutes)


def in_quiet_hours(night: NightMode, now: datetime, timezone: str) -> bool:
    start, end = _minutes(night.start), _minutes(night.end)
    if start == end:
        return False
    minute = int((now - day_start(local_day(now, timezone), timezone)).total_seconds() // 60)
    return start <= minute < end if start < end else minute >= start or minute < end


def next_boundary(night: NightMode, now: datetime, timezone: str) -> tuple[str, datetime]:
    """The next start or end of quiet hours strictly after `now`: (job kind, due time)."""
    today = local_day(now, timezone)
    found: list[tuple[datetime, str]] = []
    for days in range(-1, 3):
        midnight = day_start(today + timedelta(days=days), timezone)
        found.append((midnight + timedelta(minutes=_minutes(night.start)), NIGHT_START))
        found.append((midnight + timedelta(minutes=_minutes(night.end)), NIGHT_END))
    due, kind = min((at, kind) for at, kind in found if at > now)
    return kind, due


def active_mode(settings: ModerationSettings, now: datetime, timezone: str) -> str:
    """The mode in force ("" for none): all-mute first, then quiet hours. With moderation off,
    none (a mode it switched on is switched off)."""
    if not settings.enabled:
        return ""
    if settings.all_mute.enabled:
        return ALL_MUTE
    night = settings.night
    if night.enabled and night.start != night.end and in_quiet_hours(night, now, timezone):
        return NIGHT
    return ""


def mode_table(settings: ModerationSettings, mode: str) -> AllMuteMode:
    return settings.night if mode == NIGHT else settings.all_mute


async def _state(ctx: FeatureContext, session: AsyncSession, group_id: int) -> ModeState:
    states: dict[int, ModeState] = ctx.uow.scratch(SCRATCH, dict)
    if group_id not in states:
        row = await session.get(ModerationGroupMode, group_id)
        states[group_id] = ModeState(row.reason, row.muted) if row else ModeState("", False)
    return states[group_id]


async def sync(ctx: FeatureContext, settings: ModerationSettings) -> str:
    """Announce and switch a mode that started or ended since the last look; the mode now."""
    group = ctx.group
    assert group is not None
    mode = active_mode(settings, ctx.now, group.timezone)
    state = await _state(ctx, ctx.session, group.id)
    if mode == state.reason:
        return mode
    want_mute = bool(mode) and mode_table(settings, mode).use_platform
    async with ctx.session.begin_nested():
        row = await ctx.session.get(ModerationGroupMode, group.id)
        if row is None:
            ctx.session.add(ModerationGroupMode(group_id=group.id, org_id=group.org_id,
                                                muted=want_mute, reason=mode, updated_at=ctx.now))
        else:
            row.muted, row.reason, row.updated_at = want_mute, mode, ctx.now
    if want_mute != state.muted:
        ctx.emit(ActionRequest(MUTE_ALL, {"on": want_mute}))
    ctx.emit(send_message(_announcement(settings, mode or state.reason, bool(mode),
                                        ctx.locale)))
    state.reason, state.muted = mode, want_mute
    return mode


def _announcement(settings: ModerationSettings, mode: str, on: bool, locale: str) -> str:
    if mode == NIGHT:
        night = settings.night
        if on:
            return gettext("🌙 Quiet hours have begun ({start}–{end}): until {end} only the "
                           "hosts speak. Good night!", locale, start=night.start, end=night.end)
        return gettext("☀️ Quiet hours are over: everyone may speak again. Good morning!", locale)
    if on:
        return gettext("🔇 All-mute is on: only the hosts speak now, everyone else please "
                       "listen.", locale)
    return gettext("🔈 All-mute is off: everyone may speak again.", locale)


def schedule_night(ctx: FeatureContext, settings: ModerationSettings) -> None:
    night, group = settings.night, ctx.group
    if not (settings.enabled and night.enabled) or night.start == night.end or group is None:
        return
    kind, due = next_boundary(night, ctx.now, group.timezone)
    ctx.schedule(kind, due, {"start": night.start, "end": night.end},
                 key=f"night:{group.id}:{due.isoformat()}:{night.start}-{night.end}")


async def enforce(ctx: FeatureContext, settings: ModerationSettings) -> bool:
    """Apply the modes to a posted message; True when it was deleted (propagation stops)."""
    event, member = ctx.event, ctx.member
    assert event is not None and member is not None
    schedule_night(ctx, settings)
    mode = await sync(ctx, settings)
    if not mode or member.role in mode_table(settings, mode).speakers:
        return False
    ctx.emit(ActionRequest(DELETE_MESSAGE, {"message_id": str(event.data["message_id"])}))
    ctx.stop()
    return True


async def on_mode_job(ctx: FeatureContext) -> None:
    """A quiet-hours boundary or a mode change from the dashboard: switch, plan the next."""
    job, group = ctx.job, ctx.group
    if job is None or group is None:
        return
    settings: ModerationSettings = ctx.settings
    if job.kind in (NIGHT_START, NIGHT_END):
        night = settings.night
        if (job.payload.get("start"), job.payload.get("end")) != (night.start, night.end):
            return  # the hours changed: the jobs of the new hours do the work
    await sync(ctx, settings)
    schedule_night(ctx, settings)
