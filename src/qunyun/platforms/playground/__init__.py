"""The playground: groups that live inside qunyun, for trying every feature without a chat account.

Members' messages enter as canonical events (platform `playground`); the bot's actions are
delivered here, into a live feed per group that the dashboard's chat page follows.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from typing import Any

from qunyun.core.actions import ACTION_TYPES, Action
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits

FEED_LENGTH = 200


class PlaygroundPlatform:
    name = "playground"
    capabilities = frozenset(ACTION_TYPES)

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.rate_limits = limits or RateLimits(RateLimit(1000, 1000), RateLimit(1000, 1000))
        self._feeds: dict[str, deque[dict[str, Any]]] = defaultdict(
            lambda: deque(maxlen=FEED_LENGTH))
        self._listeners: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self.delivered: set[str] = set()

    async def deliver(self, action: Action) -> DeliveryResult:
        if action.id in self.delivered:  # idempotency: a retried action has one effect
            return DeliveryResult("done")
        self.delivered.add(action.id)
        self.publish(action.group or "", {"kind": "action", "action": action.to_json()})
        return DeliveryResult("done")

    def publish(self, group: str, item: dict[str, Any]) -> None:
        self._feeds[group].append(item)
        for queue in self._listeners[group]:
            queue.put_nowait(item)

    def recent(self, group: str) -> list[dict[str, Any]]:
        return list(self._feeds[group])

    async def follow(self, group: str) -> AsyncIterator[dict[str, Any]]:
        """Items published to `group` from now on, as they come."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners[group].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners[group].discard(queue)
