"""Telegram's sending limits, enforced on our side before a request leaves.

The Bot API asks bots not to send more than about one message per second to a chat, twenty
messages per minute to one group, and thirty messages per second overall; above that it
answers 429 with `retry_after`. Delivery's token buckets already pace sends; this guard counts
what was really sent in sliding windows so the limits hold even when the buckets are set too
generously. A send is counted when its answer is back: Telegram received it no later than that,
so a window measured from there holds on Telegram's side whatever the network's jitter.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class SendLimits:
    per_chat: Window = Window(1, 1.0)
    per_group: Window = Window(20, 60.0)
    overall: Window = Window(30, 1.0)
    margin: float = 1.0  # windows counted this much wider than Telegram's


class SendGuard:
    def __init__(self, limits: SendLimits | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or SendLimits()
        self._now = monotonic
        self._chat: dict[str, deque[float]] = defaultdict(deque)
        self._group: dict[str, deque[float]] = defaultdict(deque)
        self._all: deque[float] = deque()

    def _wait(self, sent: deque[float], window: Window, now: float) -> float:
        span = window.seconds * self.limits.margin
        while sent and sent[0] <= now - span:
            sent.popleft()
        if len(sent) < window.count:
            return 0.0
        return sent[-window.count] + span - now

    def wait_time(self, chat_id: str) -> float:
        """Seconds before a message to `chat_id` may leave (0: now)."""
        now = self._now()
        waits = [self._wait(self._chat[chat_id], self.limits.per_chat, now),
                 self._wait(self._all, self.limits.overall, now)]
        if chat_id.startswith("-"):  # groups and supergroups have negative ids
            waits.append(self._wait(self._group[chat_id], self.limits.per_group, now))
        return max(waits)

    def record(self, chat_id: str) -> None:
        now = self._now()
        self._chat[chat_id].append(now)
        self._all.append(now)
        if chat_id.startswith("-"):
            self._group[chat_id].append(now)
