"""Delivery after commit: retries with backoff, a final failed state, rate limits, order."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from qunyun.core.actions import ACTION_TYPES, Action
from qunyun.core.clock import ManualClock
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits
from qunyun.pipeline.models import ActionRecord
from tests import factories as f
from tests.pipeline import fakes
from tests.pipeline.conftest import RuntimeFactory


class FlakyPlatform:
    name = "flaky"
    capabilities = frozenset(ACTION_TYPES)
    rate_limits = RateLimits(RateLimit(100, 100), RateLimit(100, 100))

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[str] = []
        self.delivered: list[str] = []

    async def deliver(self, action: Action) -> DeliveryResult:
        self.attempts.append(action.id)
        if len(self.attempts) <= self.failures:
            raise ConnectionError("platform unreachable")
        self.delivered.append(action.data["text"])
        return DeliveryResult("done")


async def _actions(rt) -> list[ActionRecord]:  # type: ignore[no-untyped-def]
    async with rt.sessions() as session:
        return list(await session.scalars(select(ActionRecord).order_by(ActionRecord.seq)))


async def test_retries_with_exponential_backoff(make_runtime: RuntimeFactory,
                                                clock: ManualClock) -> None:
    platform = FlakyPlatform(failures=2)
    rt, org = await make_runtime(fakes.echo(), platforms={"flaky": platform})
    await rt.pipeline.ingest(org, [f.message("u1", "echo 1", platform="flaky")])

    assert await rt.delivery.run_once() == 2.0  # first failure: next try in 2 s
    [row] = await _actions(rt)
    assert (row.status, row.attempts, row.last_error) == (
        "pending", 1, "ConnectionError: platform unreachable")
    clock.advance(timedelta(seconds=1))
    await rt.delivery.run_once()
    assert len(platform.attempts) == 1  # not due yet
    clock.advance(timedelta(seconds=1))
    assert await rt.delivery.run_once() == 4.0  # second failure: 4 s
    clock.advance(timedelta(seconds=4))
    await rt.delivery.run_once()
    [row] = await _actions(rt)
    assert (row.status, row.attempts) == ("done", 3)
    assert platform.attempts == [row.id] * 3  # the same idempotency key every time


async def test_gives_up_with_the_reason(make_runtime: RuntimeFactory,
                                        clock: ManualClock) -> None:
    platform = FlakyPlatform(failures=100)
    rt, org = await make_runtime(fakes.echo(), platforms={"flaky": platform},
                                 platform_config={"flaky": {"max_attempts": 3}})
    await rt.pipeline.ingest(org, [f.message("u1", "echo 1", platform="flaky")])
    for _ in range(5):
        await rt.delivery.run_once()
        clock.advance(timedelta(minutes=10))
    [row] = await _actions(rt)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error == "ConnectionError: platform unreachable"
    assert len(platform.attempts) == 3


async def test_group_rate_limit_keeps_order(make_runtime: RuntimeFactory,
                                            clock: ManualClock) -> None:
    platform = FlakyPlatform(failures=0)
    limits = {"flaky": {"group": {"rate": 1, "burst": 1}, "platform": {"rate": 10, "burst": 10}}}
    rt, org = await make_runtime(fakes.echo(), platforms={"flaky": platform},
                                 platform_config=limits)
    await rt.pipeline.ingest(org, [f.message("u1", f"echo {i}", platform="flaky", group=g)
                                   for i, g in enumerate(["a", "a", "a", "b"])])
    wait = await rt.delivery.run_once()
    assert platform.delivered == ["echo: echo 0", "echo: echo 3"]  # one per group
    assert wait is not None and 0 < wait <= 1.0
    clock.advance(timedelta(seconds=1))
    await rt.delivery.run_once()
    clock.advance(timedelta(seconds=1))
    await rt.delivery.run_once()
    assert platform.delivered == ["echo: echo 0", "echo: echo 3", "echo: echo 1",
                                  "echo: echo 2"]


async def test_platform_retry_after_is_honoured(make_runtime: RuntimeFactory,
                                                clock: ManualClock) -> None:
    class Throttled(FlakyPlatform):
        async def deliver(self, action: Action) -> DeliveryResult:
            self.attempts.append(action.id)
            if len(self.attempts) == 1:
                return DeliveryResult("retry", reason="429 Too Many Requests", retry_after=30)
            return DeliveryResult("done")

    platform = Throttled(failures=0)
    rt, org = await make_runtime(fakes.echo(), platforms={"flaky": platform})
    await rt.pipeline.ingest(org, [f.message("u1", "echo x", platform="flaky")])
    assert await rt.delivery.run_once() == 30.0
    clock.advance(timedelta(seconds=30))
    await rt.delivery.run_once()
    [row] = await _actions(rt)
    assert row.status == "done" and row.attempts == 2
