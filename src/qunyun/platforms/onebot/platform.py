"""The OneBot 11 adapter (QQ through NapCat, Lagrange, LLOneBot, go-cqhttp …).

One adapter serves every configured OneBot connection (bot). Actions go out through the bot
that last saw the group (or the member, for private messages), or the only bot there is.
Delivery is idempotent per action id; a long text sent in parts resumes where it stopped.
Each group keeps a delivery record: calls made, failures, and signs of QQ's risk control.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qunyun.core.actions import SEND_MESSAGE, SEND_PRIVATE_MESSAGE, Action
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits
from qunyun.platforms.onebot.inbound import Inbound, Sink, decode
from qunyun.platforms.onebot.link import ApiLink, LinkDown, WsSession, is_api_answer
from qunyun.platforms.onebot.options import OneBotOptions
from qunyun.platforms.onebot.outbound import CAPABILITIES, ApiCall, CannotTranslate, api_calls
from qunyun.platforms.onebot.translate import Malformed

# Conservative defaults: QQ's risk control drops or blocks accounts that send in bursts.
DEFAULT_LIMITS = RateLimits(platform=RateLimit(rate=4.0, burst=8.0),
                            group=RateLimit(rate=0.5, burst=3.0))
DELIVERED_KEPT = 20_000
SEND_FAILED_RETCODE = 100  # go-cqhttp and successors: the send did not go through
RISK_NOTES = ("风控", "risk", "账号异常", "被限制", "limited")


@dataclass
class GroupHealth:
    """Delivery record of one group, for the dashboard and `diagnose`."""

    calls: int = 0
    failures: int = 0
    risk_signs: int = 0
    last_error: str | None = None
    last_failure_at: datetime | None = None
    retcodes: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "failures": self.failures, "risk_signs": self.risk_signs,
                "last_error": self.last_error,
                "last_failure_at": self.last_failure_at.isoformat()
                if self.last_failure_at else None,
                "retcodes": {str(k): v for k, v in sorted(self.retcodes.items())}}


class Bot:
    """One OneBot connection: its options, its inbound flow and, while connected, its API
    link. `generation` counts the links attached (a new one asks for a roster sync)."""

    def __init__(self, name: str, options: OneBotOptions, sink: Sink,
                 org: str = "default") -> None:
        self.name = name
        self.org = org  # the organization's slug
        self.options = options
        self.inbound = Inbound(sink, options.batch_size)
        self.link: ApiLink | None = None
        self.self_id: str | None = None
        self.generation = 0

    def attach(self, link: ApiLink, self_id: str | None = None) -> None:
        self.link = link
        self.generation += 1
        if self_id:
            self.self_id = self_id

    def detach(self, link: ApiLink) -> None:
        if self.link is link:
            self.link = None

    async def receive(self, frame: str | bytes, session: WsSession | None) -> None:
        """One WebSocket frame: an API answer for `session`, or an event to take in."""
        excerpt = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        try:
            payload = decode(frame)
        except Malformed as exc:
            self.inbound.stats.frames += 1
            self.inbound.stats.reject(str(exc), excerpt[:300])
            return
        if isinstance(payload, dict) and is_api_answer(payload):
            if session is not None:
                session.answer(payload)
            return
        await self.inbound.enqueue(payload, excerpt[:300])


class OneBotPlatform:
    name = "onebot"
    capabilities = CAPABILITIES

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.rate_limits = limits or DEFAULT_LIMITS
        self.bots: dict[str, Bot] = {}
        self._group_bot: dict[str, str] = {}
        self._user_bot: dict[str, str] = {}
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._progress: dict[str, int] = {}  # action id -> parts of a split text already sent
        self.health: dict[str, GroupHealth] = {}

    def add_bot(self, bot: Bot) -> Bot:
        self.bots[bot.name] = bot
        bot.inbound.on_payload = lambda payload: self._seen(bot, payload)
        return bot

    def _seen(self, bot: Bot, payload: dict[str, Any]) -> None:
        if payload.get("self_id") is not None:
            bot.self_id = str(payload["self_id"])
        if payload.get("group_id") is not None:
            self._group_bot[str(payload["group_id"])] = bot.name
        elif payload.get("user_id") is not None:
            self._user_bot[str(payload["user_id"])] = bot.name

    def serve_group(self, group: str, bot: Bot) -> None:
        self._group_bot[group] = bot.name

    def _route(self, action: Action) -> Bot | None:
        name = self._group_bot.get(action.group or "") if action.group else \
            self._user_bot.get(action.member or "")
        if name in self.bots:
            return self.bots[name]
        connected = [b for b in self.bots.values() if b.link is not None]
        return connected[0] if len(connected) == 1 else None

    async def deliver(self, action: Action) -> DeliveryResult:
        if action.id in self._delivered:  # a retried action has one effect
            return DeliveryResult("done")
        try:
            calls = api_calls(action)
        except CannotTranslate as exc:
            return DeliveryResult("failed", reason=str(exc))
        bot = self._route(action)
        if bot is None or bot.link is None:
            return DeliveryResult("retry", reason="no OneBot connection serves this group now")
        for index in range(self._progress.get(action.id, 0), len(calls)):
            result = await self._call(bot.link, action, calls[index])
            if result is not None:
                return result
            self._progress[action.id] = index + 1
        self._progress.pop(action.id, None)
        self._remember(action.id)
        return DeliveryResult("done")

    async def _call(self, link: ApiLink, action: Action, call: ApiCall) -> DeliveryResult | None:
        """One API call; None when it went through, else the delivery result to report."""
        health = self.health.setdefault(action.group or f"user:{action.member}", GroupHealth())
        health.calls += 1
        try:
            answer = await link.call(call.action, call.params)
        except LinkDown as exc:
            self._failed(health, str(exc), None)
            return DeliveryResult("retry", reason=str(exc))
        status, retcode = answer.get("status"), answer.get("retcode")
        if status in ("ok", "async") or retcode in (0, 1):
            message_id = (answer.get("data") or {}).get("message_id") \
                if isinstance(answer.get("data"), dict) else None
            if action.type in (SEND_MESSAGE, SEND_PRIVATE_MESSAGE) \
                    and isinstance(message_id, int) and message_id <= 0:
                health.risk_signs += 1  # accepted but not sent: how risk control looks
            return None
        reason = _reason(call.action, answer)
        code = retcode if isinstance(retcode, int) else -1
        self._failed(health, reason, code)
        if code == 1404:
            return DeliveryResult("unsupported",
                                  reason=f"the OneBot implementation has no {call.action}")
        if action.type in (SEND_MESSAGE, SEND_PRIVATE_MESSAGE) and (
                code == SEND_FAILED_RETCODE or any(n in reason for n in RISK_NOTES)):
            health.risk_signs += 1
        return DeliveryResult("failed", reason=reason)

    @staticmethod
    def _failed(health: GroupHealth, reason: str, retcode: int | None) -> None:
        health.failures += 1
        health.last_error = reason
        health.last_failure_at = datetime.now(UTC)
        if retcode is not None:
            health.retcodes[retcode] = health.retcodes.get(retcode, 0) + 1

    def _remember(self, action_id: str) -> None:
        self._delivered[action_id] = None
        while len(self._delivered) > DELIVERED_KEPT:
            self._delivered.popitem(last=False)

    def report(self, org: str | None = None) -> dict[str, Any]:
        """Connections and per-group delivery health, as plain data; only those of the
        organization `org` (a slug) when given."""
        bots = {n: b for n, b in self.bots.items() if org is None or b.org == org}
        return {
            "connections": {name: {"mode": bot.options.mode, "connected": bot.link is not None,
                                   "self_id": bot.self_id, "pending": bot.inbound.pending(),
                                   **bot.inbound.stats.as_dict()}
                            for name, bot in bots.items()},
            "groups": {group: h.as_dict() for group, h in sorted(self.health.items())
                       if org is None or self._serving(group) in bots},
        }

    def _serving(self, key: str) -> str | None:
        """The bot that serves a health key (a group id, or `user:<id>`)."""
        if key.startswith("user:"):
            return self._user_bot.get(key[5:])
        return self._group_bot.get(key)


def _reason(api: str, answer: dict[str, Any]) -> str:
    parts = [f"{api} failed: status {answer.get('status')}, retcode {answer.get('retcode')}"]
    for key in ("msg", "wording", "message"):
        if answer.get(key):
            parts.append(str(answer[key])[:200])
    return "; ".join(parts)
