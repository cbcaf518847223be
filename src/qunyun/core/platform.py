"""The platform port: what the pipeline needs from a chat platform adapter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from qunyun.core.actions import Action

DeliveryStatus = Literal["done", "failed", "retry", "unsupported", "dispatched"]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of one delivery attempt.

    `dispatched` means the platform took the action and will acknowledge it later (the bridge);
    `retry` asks for another attempt, after `retry_after` seconds if the platform said so.
    """

    status: DeliveryStatus
    reason: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: `rate` tokens per second, holding at most `burst`."""

    rate: float
    burst: float


@dataclass(frozen=True, slots=True)
class RateLimits:
    platform: RateLimit
    group: RateLimit


class Platform(Protocol):
    """A chat platform adapter. It translates; it never decides."""

    name: str
    # The action types (bridge protocol) this platform can perform itself.
    capabilities: frozenset[str]
    rate_limits: RateLimits

    async def deliver(self, action: Action) -> DeliveryResult: ...
