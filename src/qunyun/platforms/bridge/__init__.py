"""The generic bridge: events arrive in canonical form over HTTP; actions are long-polled."""

from __future__ import annotations

import asyncio

from qunyun.core.actions import ACTION_TYPES, Action
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits


class BridgePlatform:
    """Delivery hands the action to the bridge's long poll; the bridge acknowledges it later.

    It also serves every platform that has no native adapter: a bridge program speaks for it.
    It may answer `unsupported` for an action its platform cannot do; that becomes a staff task.
    """

    name = "bridge"
    capabilities = frozenset(ACTION_TYPES)

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.rate_limits = limits or RateLimits(RateLimit(1000, 1000), RateLimit(100, 100))
        self._changed: dict[int, asyncio.Event] = {}

    async def deliver(self, action: Action) -> DeliveryResult:
        return DeliveryResult("dispatched")

    def changed(self, org_id: int) -> asyncio.Event:
        """An event set at the next `signal` for `org_id`. Take it *before* looking for actions,
        so a signal that comes while looking is not missed."""
        if org_id not in self._changed:
            self._changed[org_id] = asyncio.Event()
        return self._changed[org_id]

    def signal(self, org_id: int) -> None:
        """New actions for `org_id` are committed and visible: wake its long polls."""
        event = self._changed.pop(org_id, None)
        if event is not None:
            event.set()
