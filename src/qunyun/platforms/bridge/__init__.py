"""The generic bridge: events arrive in canonical form over HTTP; actions are long-polled."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict

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
        self._signals: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def deliver(self, action: Action) -> DeliveryResult:
        self.signal_all()
        return DeliveryResult("dispatched")

    def signal_all(self) -> None:
        for signal in self._signals.values():
            signal.set()

    async def wait(self, org_id: int, seconds: float) -> None:
        """Wait until new actions may be there for `org_id`, or for `seconds` at most."""
        signal = self._signals[org_id]
        signal.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(signal.wait(), seconds)
