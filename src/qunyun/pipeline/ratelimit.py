"""Token buckets for delivery: one per platform and one per group, driven by the clock."""

from __future__ import annotations

from datetime import datetime

from qunyun.core.platform import RateLimit


class TokenBucket:
    def __init__(self, limit: RateLimit, now: datetime) -> None:
        self.limit = limit
        self.tokens = limit.burst
        self.updated = now

    def _refill(self, now: datetime) -> None:
        elapsed = (now - self.updated).total_seconds()
        if elapsed > 0:
            self.tokens = min(self.limit.burst, self.tokens + elapsed * self.limit.rate)
            self.updated = now

    def wait_time(self, now: datetime) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.limit.rate

    def take(self, now: datetime) -> None:
        self._refill(now)
        self.tokens -= 1


class RateLimiter:
    """Per-platform and per-group buckets; an action may go when both have a token."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str | None], TokenBucket] = {}

    def _bucket(self, key: tuple[str, str | None], limit: RateLimit, now: datetime) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.limit != limit:
            bucket = self._buckets[key] = TokenBucket(limit, now)
        return bucket

    def wait_time(self, platform: str, group: str | None, platform_limit: RateLimit,
                  group_limit: RateLimit, now: datetime) -> float:
        waits = [self._bucket((platform, None), platform_limit, now).wait_time(now)]
        if group is not None:
            waits.append(self._bucket((platform, group), group_limit, now).wait_time(now))
        return max(waits)

    def take(self, platform: str, group: str | None, platform_limit: RateLimit,
             group_limit: RateLimit, now: datetime) -> None:
        self._bucket((platform, None), platform_limit, now).take(now)
        if group is not None:
            self._bucket((platform, group), group_limit, now).take(now)
