"""Metered API quotas: per corp and per API, at most N calls a minute and M an hour.

WeCom answers 45009 once a corp exceeds them; the meter keeps us below, counting calls in
one-second buckets over sliding windows.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

PER_MINUTE = 10_000
PER_HOUR = 150_000


@dataclass(frozen=True, slots=True)
class Window:
    seconds: int
    limit: int


class _Counter:
    def __init__(self, window: Window) -> None:
        self.window = window
        self.buckets: deque[list[int]] = deque()  # [second, calls]
        self.total = 0

    def expire(self, second: int) -> None:
        while self.buckets and self.buckets[0][0] <= second - self.window.seconds:
            self.total -= self.buckets.popleft()[1]

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0 when it fits now)."""
        self.expire(int(now))
        if self.total < self.window.limit:
            return 0.0
        freed = 0
        for second, calls in self.buckets:
            freed += calls
            if self.total - freed < self.window.limit:
                return max(0.0, second + self.window.seconds - now)
        return float(self.window.seconds)

    def add(self, now: float) -> None:
        second = int(now)
        if self.buckets and self.buckets[-1][0] == second:
            self.buckets[-1][1] += 1
        else:
            self.buckets.append([second, 1])
        self.total += 1


class QuotaMeter:
    """Calls per API path, against every window; `take` records a call that fits."""

    def __init__(self, per_minute: int = PER_MINUTE, per_hour: int = PER_HOUR) -> None:
        self.windows = (Window(60, per_minute), Window(3600, per_hour))
        self._counters: dict[str, list[_Counter]] = defaultdict(
            lambda: [_Counter(w) for w in self.windows])

    def wait(self, api: str, now: float) -> float:
        return max(counter.wait(now) for counter in self._counters[api])

    def take(self, api: str, now: float) -> float:
        """Record a call if it fits now and return 0; otherwise the seconds to wait."""
        wait = self.wait(api, now)
        if wait == 0.0:
            for counter in self._counters[api]:
                counter.add(now)
        return wait

    def used(self, api: str, now: float) -> tuple[int, ...]:
        counters = self._counters[api]
        for counter in counters:
            counter.expire(int(now))
        return tuple(counter.total for counter in counters)
