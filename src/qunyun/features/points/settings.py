"""The settings of the award rules, `[features.points]`. Anti-farming is on by default; the
rules themselves are documented in `qunyun.features.points.rules`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from qunyun.core.features import FeatureSettings

POINTS_LIMIT = 10_000
CAP_LIMIT = 1_000_000


class PointsSettings(FeatureSettings):
    message_points: Annotated[int, Field(
        ge=0, le=POINTS_LIMIT, description="Points for a message that passes the "
        "anti-farming checks; 0: messages earn nothing.")] = 1
    message_cooldown_seconds: Annotated[int, Field(
        ge=0, le=86_400, description="Seconds after a member's last paid message during "
        "which their messages earn nothing.")] = 60
    message_min_length: Annotated[int, Field(
        ge=0, le=200, description="Letters and digits a message needs to earn (emoji, "
        "punctuation and blanks do not count).")] = 5
    message_daily_cap: Annotated[int, Field(
        ge=0, le=CAP_LIMIT, description="Message points a member can earn per local day; "
        "0: no cap.")] = 20
    duplicate_window: Annotated[int, Field(
        ge=0, le=20, description="How many of the member's last messages a new one is "
        "compared with; 0: no duplicate check.")] = 5
    duplicate_similarity: Annotated[float, Field(
        ge=0.5, le=1.0, description="Jaccard similarity of the character 3-gram sets at or "
        "above which a message is a near-duplicate (1.0: only exact repeats).")] = 0.8
    reaction_points: Annotated[int, Field(
        ge=0, le=POINTS_LIMIT, description="Points the author earns per reaction to their "
        "message: once per reactor and message, never their own.")] = 1
    reaction_daily_cap: Annotated[int, Field(
        ge=0, le=CAP_LIMIT, description="Reaction points an author can earn per local day; "
        "0: no cap.")] = 20
    invite_points: Annotated[int, Field(
        ge=0, le=POINTS_LIMIT, description="Points for the inviter of a new member (once per "
        "invitee in the community).")] = 10
    invite_hold_hours: Annotated[int, Field(
        ge=0, le=24 * 90, description="Hours the invitee must stay in the group before the "
        "inviter earns; 0: at once.")] = 24
    expire_after_days: Annotated[int, Field(
        ge=0, le=3650, description="Earned points expire after this many days unless spent "
        "(oldest first); 0: never.")] = 0
