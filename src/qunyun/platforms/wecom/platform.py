"""The WeCom adapter's delivery side: what WeCom lets an application do in a customer group.

WeCom's API cannot post into a customer group, remove or mute a member, or set its notice. So:

- `message.send` becomes a mass-send task (`add_msg_template`, chat type group) that the group
  owner confirms in the WeCom app, plus a staff task saying so. WeCom allows a customer group as
  many mass-sends a month as the month has days; the cap is checked before calling, and past it
  the message becomes a staff task to post by hand.
- a welcome (a `message.send` caused by a join) becomes a group welcome template
  (`group_welcome_template/add`, members notified) instead of spending a mass-send.
- everything else is outside `capabilities`, so the pipeline makes it a staff task.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from qunyun.core.actions import SEND_MESSAGE, Action
from qunyun.core.i18n import N_
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits
from qunyun.platforms.wecom.callbacks import CHINA, PLATFORM
from qunyun.platforms.wecom.client import QuotaExhausted, WecomApiError, WecomClient
from qunyun.platforms.wecom.crypto import WecomCrypto

log = logging.getLogger(__name__)

MASS_SEND_CREATED = N_("A WeCom mass-send task was created for this message; the group owner "
                       "must confirm it in the WeCom app.")
CAP_REACHED = N_("This group's monthly WeCom mass-send limit is reached; post the message by "
                 "hand.")
MASS_SEND_REFUSED = N_("WeCom refused the mass-send; post the message by hand.")
WELCOME_TEMPLATE = N_("The welcome was registered as a WeCom group welcome template; apply it "
                      "to this group in the WeCom app.")
UNKNOWN_GROUP = N_("qunyun does not know which WeCom corp this group belongs to.")
WELCOME_CAUSE = "join:"  # ids of member.joined events from this adapter


class MassSendLedger(Protocol):
    async def sent_this_month(self, chat_id: str, month_start: datetime) -> int:
        """Mass-sends created for `chat_id` since `month_start`."""
        ...


def monthly_cap(now: datetime) -> tuple[int, datetime]:
    """(mass-sends a group may receive this month, the month's start), in China time."""
    local = now.astimezone(CHINA)
    days = calendar.monthrange(local.year, local.month)[1]
    return days, local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Corp:
    """One WeCom corp: its API client, its callback secrets and where its callbacks go."""

    name: str  # the connection's name; its callback URL is /api/v1/wecom/<name>/callback
    client: WecomClient
    crypto: WecomCrypto
    receive: Callable[[str], Awaitable[Any]]  # a decrypted callback, stored on return
    owners: dict[str, str] = field(default_factory=dict)  # chat id -> owner userid
    welcome_templates: dict[str, str] = field(default_factory=dict)  # text -> template id


# A post to a customer group is only ever a mass-send the owner confirms; kick, mute and the
# rest are not in WeCom's API at all (they become staff tasks).
CAPABILITIES = frozenset({SEND_MESSAGE})
CAPABILITY_NOTES = {
    SEND_MESSAGE: N_("a mass-send task the group owner confirms; at most as many per group per "
                     "month as the month has days"),
}


class WecomPlatform:
    name = PLATFORM
    capabilities = CAPABILITIES

    def __init__(self, now: Callable[[], datetime], ledger: MassSendLedger,
                 limits: RateLimits | None = None) -> None:
        self.rate_limits = limits or RateLimits(RateLimit(10, 10), RateLimit(1, 2))
        self._now = now
        self.ledger = ledger
        self.corps: dict[str, Corp] = {}
        self._chats: dict[str, str] = {}  # chat id -> corp name

    def add_corp(self, corp: Corp) -> None:
        self.corps[corp.name] = corp

    def learn(self, corp: str, chat_id: str, owner: str | None) -> None:
        self._chats[chat_id] = corp
        if owner:
            self.corps[corp].owners[chat_id] = owner

    def corp_of(self, chat_id: str) -> Corp | None:
        name = self._chats.get(chat_id)
        if name is None and len(self.corps) == 1:
            return next(iter(self.corps.values()))
        return self.corps.get(name) if name else None

    async def deliver(self, action: Action) -> DeliveryResult:
        if action.type != SEND_MESSAGE or not action.group:
            return DeliveryResult("unsupported")
        corp = self.corp_of(action.group)
        if corp is None:
            return DeliveryResult("unsupported", UNKNOWN_GROUP)
        text = str(action.data.get("text", ""))
        try:
            if action.caused_by.startswith(WELCOME_CAUSE):
                return await self._welcome(corp, text)
            return await self._mass_send(corp, action.group, text)
        except QuotaExhausted as exc:
            return DeliveryResult("retry", str(exc), retry_after=exc.retry_after)
        except WecomApiError as exc:
            if exc.retryable:
                return DeliveryResult("retry", str(exc), retry_after=60.0)
            log.warning("WeCom refused %s for %s: %s", action.type, action.group, exc)
            return DeliveryResult("unsupported", MASS_SEND_REFUSED)

    async def _mass_send(self, corp: Corp, chat_id: str, text: str) -> DeliveryResult:
        cap, month_start = monthly_cap(self._now())
        if await self.ledger.sent_this_month(chat_id, month_start) >= cap:
            return DeliveryResult("unsupported", CAP_REACHED)
        owner = corp.owners.get(chat_id)
        if owner is None:
            chat = await corp.client.groupchat_get(chat_id)
            owner = str(chat.get("owner") or "")
            self.learn(corp.name, chat_id, owner)
        body = await corp.client.add_group_msg_template(sender=owner, chat_id=chat_id, text=text)
        log.info("WeCom mass-send %s created for %s", body.get("msgid"), chat_id)
        return DeliveryResult("unsupported", MASS_SEND_CREATED)

    async def _welcome(self, corp: Corp, text: str) -> DeliveryResult:
        if text not in corp.welcome_templates:
            corp.welcome_templates[text] = await corp.client.add_group_welcome_template(text)
        return DeliveryResult("unsupported", WELCOME_TEMPLATE)
