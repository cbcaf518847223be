"""The ladder of levels and the rules that move a person on it."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from qunyun.core.i18n import N_


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=32)
    threshold: int = Field(ge=0, description="Lifetime points, or messages in the window.")


DEFAULT_LEVELS = (Level(name="实习生", threshold=0), Level(name="助理", threshold=100),
                  Level(name="主管", threshold=500), Level(name="经理", threshold=2000),
                  Level(name="总监", threshold=5000))

# Badges are rules in code; settings switch them on or off. id -> title (a message id).
BADGES: dict[str, str] = {
    "first_signin": N_("First sign-in"),
    "streak_7": N_("7-day sign-in streak"),
    "messages_100": N_("100 messages"),
    "top_inviter_month": N_("Top inviter of the month"),
    "early_bird": N_("Early bird"),
}
SIGNIN_BADGES = ("first_signin", "streak_7", "early_bird")
STREAK_DAYS = 7
MESSAGES_BADGE_AT = 100


def level_for(value: int, thresholds: Sequence[int]) -> int:
    """The highest level whose threshold `value` reaches (the first threshold is 0)."""
    found = 0
    for index, threshold in enumerate(thresholds):
        if value >= threshold:
            found = index
    return found


def target_level(current: int, value: int, thresholds: Sequence[int], *, demotion: bool,
                 hysteresis: float) -> int:
    """Where a person at `current` with `value` belongs. Without demotion the level only goes
    up; with it, a level is kept until `value` falls below `hysteresis` times its threshold,
    so someone hovering around a threshold is not promoted and demoted day after day."""
    current = min(current, len(thresholds) - 1)  # the ladder may have been shortened
    reached = level_for(value, thresholds)
    if reached >= current:
        return reached
    if not demotion or value >= thresholds[current] * hysteresis:
        return current
    return reached
