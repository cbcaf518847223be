"""The ladder of consequences (奖惩机制): which step a member's offence earns.

A ladder is a list of steps (`["warn", "warn", "mute:600", "mute:86400", "kick"]`): a member's
first offence gets the first step, the second the second, and so on; past the end the last step
repeats. Offences count while they are live: not undone, not overturned, and younger than the
decay time. Every step deletes the offending message and tells the member which rule.

Steps: `delete` (the message goes, nothing more), `warn` (a counted warning), `mute:<seconds>`,
`kick`, `block` (kick and refuse re-entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qunyun.core.i18n import N_, gettext

DELETE = "delete"
WARN = "warn"
MUTE = "mute"
KICK = "kick"
BLOCK = "block"
STEP_KINDS = (DELETE, WARN, MUTE, KICK, BLOCK)
MAX_MUTE_SECONDS = 30 * 24 * 3600  # what chat platforms allow at most
DEFAULT_LADDER = ("warn", "warn", "mute:600", "mute:86400", "kick")


@dataclass(frozen=True, slots=True)
class Step:
    kind: str
    seconds: int = 0  # for `mute`

    def __str__(self) -> str:
        return f"{MUTE}:{self.seconds}" if self.kind == MUTE else self.kind

    @property
    def removes(self) -> bool:
        """The member leaves the group (kick or block)."""
        return self.kind in (KICK, BLOCK)


class StepError(ValueError):
    """A step that is not one; `reason` is a message id, `params` fill it."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def parse_step(text: str) -> Step:
    """`warn`, `mute:600` … → Step; StepError naming what is wrong."""
    kind, _, argument = text.strip().partition(":")
    if kind not in STEP_KINDS:
        raise StepError(N_("unknown step {step}: use delete, warn, mute:<seconds>, kick or "
                           "block"), step=text)
    if kind != MUTE:
        if argument:
            raise StepError(N_("the step {step} takes no value"), step=kind)
        return Step(kind)
    if not argument.isascii() or not argument.isdigit():
        raise StepError(N_("a mute needs its length in seconds, e.g. mute:600: {step}"),
                        step=text)
    seconds = int(argument)
    if not 60 <= seconds <= MAX_MUTE_SECONDS:
        raise StepError(N_("a mute lasts from 60 to {limit} seconds: {step}"),
                        limit=MAX_MUTE_SECONDS, step=text)
    return Step(MUTE, seconds)


def step_for(ladder: Sequence[Step], live_offences: int) -> Step:
    """The step of a member with `live_offences` earlier live offences (0: a first offence)."""
    if not ladder:
        return Step(DELETE)
    return ladder[min(live_offences, len(ladder) - 1)]


def duration_text(seconds: int, locale: str) -> str:
    if seconds % 86400 == 0:
        return gettext("{count} days", locale, count=seconds // 86400) if seconds > 86400 \
            else gettext("1 day", locale)
    if seconds % 3600 == 0:
        return gettext("{count} hours", locale, count=seconds // 3600)
    return gettext("{count} minutes", locale, count=max(1, round(seconds / 60)))


def notice(step: Step, *, rule: str, offences: int, locale: str) -> str:
    """What the member is told, politely, in the group's language: which rule, what happens."""
    text = gettext("your message was removed because it breaks the group rules ({rule}).",
                   locale, rule=rule)
    if step.kind == WARN:
        text += " " + gettext("This is warning {count}; please keep to the rules.", locale,
                              count=offences)
    elif step.kind == MUTE:
        text += " " + gettext("You are muted for {duration}.", locale,
                              duration=duration_text(step.seconds, locale))
    elif step.kind == KICK:
        text += " " + gettext("You have been removed from the group.", locale)
    elif step.kind == BLOCK:
        text += " " + gettext("You have been removed from the group and may not rejoin.",
                              locale)
    return text + " " + gettext("If you think this is a mistake, send me 申诉 and your reason "
                                "in a private message.", locale)
