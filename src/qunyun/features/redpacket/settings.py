"""Settings of `redpacket` (playbook section `[features.redpacket]`).

- `send_keywords`: the command words (`发红包 100 10 拼手气 恭喜发财`, `redpacket 100 10 equal`);
  the split is 拼手气/random or 普通/equal, then an optional 口令 (password).
- `claim_keywords`: what claims a packet without a 口令 (a packet with one needs exactly it).
- `default_mode`: the split when the command names none.
- `max_total`, `max_count`: the most points and shares one packet may have (also for staff).
- `expire_hours`: after this the unclaimed rest goes back to the sender; a staff packet's rest is
  simply not paid out (it was funded by the community, nobody was debited).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from qunyun.core.errors import settings_error
from qunyun.core.features import FeatureSettings
from qunyun.core.i18n import N_

MAX_WORD = 16


def check_keywords(words: list[str]) -> list[str]:
    """Chat keywords: at least one; each a single word (a command is a message's first word)."""
    cleaned = [w.strip() for w in words]
    if not cleaned:
        raise settings_error(N_("needs at least one keyword"))
    for word in cleaned:
        if not word or any(c.isspace() for c in word) or len(word) > MAX_WORD:
            raise settings_error(N_("each keyword must be one word of 1 to {limit} characters "
                                    "without spaces: {keyword}"), limit=MAX_WORD, keyword=word)
    return cleaned


class RedpacketSettings(FeatureSettings):
    enabled: bool = False
    send_keywords: list[str] = Field(
        default_factory=lambda: ["发红包", "redpacket"],
        description=N_("Commands that send a red packet: 发红包 <total> <shares> [拼手气|普通] "
                       "[口令]."))
    claim_keywords: list[str] = Field(
        default_factory=lambda: ["抢红包", "grab"],
        description=N_("What members send to claim a red packet without its own password."))
    default_mode: Literal["random", "equal"] = Field(
        "random", description=N_("Split when the sender names none: random (拼手气) or equal."))
    max_total: int = Field(10_000, ge=1, le=1_000_000,
                           description=N_("The most points one red packet may hold."))
    max_count: int = Field(100, ge=1, le=1_000,
                           description=N_("The most shares one red packet may have."))
    expire_hours: int = Field(24, ge=1, le=168, description=N_(
        "Hours after which the unclaimed rest goes back to the sender (or the community)."))

    @field_validator("send_keywords", "claim_keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        return check_keywords(value)
