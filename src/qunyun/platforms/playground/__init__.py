"""The playground: groups that live inside qunyun, for trying every feature without a chat account.

Members' messages enter as canonical events (platform `playground`); the bot's actions are
delivered here, into a live feed per group that the dashboard's chat page follows. Whoever feeds
a member's message in may publish it to the same feed, so a page sees the conversation in order.

A real platform answers some actions with events of its own (a kicked member leaves the group):
`on_delivered` hooks, installed by the composition root, play that part.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from qunyun.core.actions import ACTION_TYPES, Action
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits

log = logging.getLogger(__name__)

FEED_LENGTH = 200
DELIVERED_KEPT = 10_000  # idempotency keys remembered; older ones are forgotten first
FOLLOWER_BACKLOG = 1_000  # items queued for one slow follower before it is dropped

DeliveredHook = Callable[[Action], Awaitable[None]]
_OVERFLOW: dict[str, Any] = {"kind": "overflow"}


class PlaygroundPlatform:
    name = "playground"
    capabilities = frozenset(ACTION_TYPES)

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.rate_limits = limits or RateLimits(RateLimit(1000, 1000), RateLimit(1000, 1000))
        self._feeds: dict[str, deque[dict[str, Any]]] = defaultdict(
            lambda: deque(maxlen=FEED_LENGTH))
        self._listeners: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self.on_delivered: list[DeliveredHook] = []

    @property
    def delivered(self) -> set[str]:
        """The idempotency keys remembered (the most recent DELIVERED_KEPT)."""
        return set(self._delivered)

    async def deliver(self, action: Action) -> DeliveryResult:
        if action.id in self._delivered:  # idempotency: a retried action has one effect
            return DeliveryResult("done")
        self._remember(action.id)
        self.publish(action.group or "", {"kind": "action", "action": action.to_json()})
        for hook in self.on_delivered:
            try:
                await hook(action)
            except Exception:
                log.exception("playground hook failed on action %s", action.id)
        return DeliveryResult("done")

    def _remember(self, action_id: str) -> None:
        self._delivered[action_id] = None
        while len(self._delivered) > DELIVERED_KEPT:
            self._delivered.popitem(last=False)

    def publish(self, group: str, item: dict[str, Any]) -> None:
        self._feeds[group].append(item)
        listeners = self._listeners.get(group, set())
        for queue in list(listeners):
            if queue.qsize() >= FOLLOWER_BACKLOG:  # a follower that stopped reading: end it
                listeners.discard(queue)
                queue.put_nowait(_OVERFLOW)
            else:
                queue.put_nowait(item)

    def recent(self, group: str) -> list[dict[str, Any]]:
        return list(self._feeds.get(group, ()))

    def followers(self, group: str) -> int:
        return len(self._listeners.get(group, ()))

    def subscribe(self, group: str) -> Follower:
        """Follow `group` from now on (registered at once); close the follower when done."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners[group].add(queue)

        def close() -> None:
            listeners = self._listeners.get(group)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    del self._listeners[group]

        return Follower(queue, close)

    async def follow(self, group: str) -> AsyncIterator[dict[str, Any]]:
        """Items published to `group` from now on, as they come. Ends if the follower falls
        FOLLOWER_BACKLOG items behind (it should reload and follow again)."""
        follower = self.subscribe(group)
        try:
            while (item := await follower.get()) is not None:
                yield item
        finally:
            follower.close()


class Follower:
    """One subscription to a group's feed."""

    def __init__(self, queue: asyncio.Queue[dict[str, Any]], close: Callable[[], None]) -> None:
        self._queue = queue
        self._close = close

    async def get(self) -> dict[str, Any] | None:
        """The next item; None once the follower fell too far behind (it was dropped)."""
        item = await self._queue.get()
        return None if item is _OVERFLOW else item

    def close(self) -> None:
        self._close()
