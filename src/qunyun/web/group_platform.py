"""What the group's platform can do, and how delivery to the group has been going.

Each action type is either done by the platform itself or turned into a staff task (the
platform's API forbids it). Delivery health counts the last week's actions by outcome and names
the most frequent failure reasons, where risk control and rate limits show first.
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.app.bootstrap import Runtime
from qunyun.app.connections import CONNECTORS
from qunyun.core.actions import ACTION_TYPES
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.outbox import DONE, FAILED, TASK

HEALTH_DAYS = 7
TOP_REASONS = 3
REASON_LENGTH = 120


@dataclass(frozen=True, slots=True)
class Capability:
    action_type: str
    native: bool  # False: it becomes a staff task
    note: str | None = None  # message id: how the platform does it, where that matters


@dataclass(frozen=True, slots=True)
class DeliveryHealth:
    counts: dict[str, int]  # status -> actions created in the period
    reasons: list[tuple[str, int]]  # the most frequent failure reasons
    last_failure_at: datetime | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failure_rate(self) -> float | None:
        finished = self.counts.get(DONE, 0) + self.counts.get(FAILED, 0)
        return self.counts.get(FAILED, 0) / finished if finished else None


def platform_capabilities(runtime: Runtime, platform: str) -> frozenset[str]:
    """The running adapter's capabilities; for a native platform without a running connection,
    the ones its package declares; otherwise the bridge's (a bridge program speaks for it)."""
    adapter = runtime.platforms.get(platform)
    if adapter is not None:
        return adapter.capabilities
    declared = _package_attribute(platform, "CAPABILITIES")
    if isinstance(declared, frozenset):
        return declared
    return runtime.platform_for(platform).capabilities


def capability_table(runtime: Runtime, platform: str) -> list[Capability]:
    native = platform_capabilities(runtime, platform)
    notes = _package_attribute(platform, "CAPABILITY_NOTES") or {}
    return [Capability(kind, kind in native, notes.get(kind)) for kind in ACTION_TYPES]


def _package_attribute(platform: str, name: str) -> Any:
    if platform not in CONNECTORS:
        return None
    return getattr(importlib.import_module(f"qunyun.platforms.{platform}"), name, None)


async def delivery_health(session: AsyncSession, group_id: int, now: datetime) -> DeliveryHealth:
    since = now - timedelta(days=HEALTH_DAYS)
    recent = (ActionRecord.group_id == group_id, ActionRecord.created_at >= since)
    counts = {status: int(n) for status, n in await session.execute(
        select(ActionRecord.status, func.count()).where(*recent)
        .group_by(ActionRecord.status))}
    failed = list(await session.execute(
        select(ActionRecord.last_error, ActionRecord.finished_at)
        .where(*recent, ActionRecord.status == FAILED)))
    reasons = Counter((error or "").strip()[:REASON_LENGTH] or "–" for error, _ in failed)
    last = max((at for _, at in failed if at is not None), default=None)
    return DeliveryHealth(counts, reasons.most_common(TOP_REASONS), last)


__all__ = ["TASK", "Capability", "DeliveryHealth", "capability_table", "delivery_health"]
