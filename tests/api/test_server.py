"""The server's background work: delivery and the scheduler run beside the API."""

from __future__ import annotations

import asyncio
import gc
from datetime import datetime

import httpx
import pytest

from qunyun.app.bootstrap import DEFAULT_GC_THRESHOLDS, GC_THRESHOLDS, Runtime
from qunyun.app.server import background_work
from tests.api.conftest import post_events
from tests.factories import joined, message


async def test_background_work_delivers_and_ticks(
        client: httpx.AsyncClient, runtime: Runtime, bridge_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    ticks: list[datetime | None] = []
    tick = runtime.pipeline.tick

    async def counting_tick(now: datetime | None = None) -> int:
        ticks.append(now)
        return await tick(now)

    monkeypatch.setattr(runtime.pipeline, "tick", counting_tick)
    async with background_work(runtime):
        await post_events(client, bridge_headers, [joined(), message(text="ping")])
        response = await client.get("/api/v1/bridge/actions", params={"wait": 10},
                                    headers=bridge_headers)

    assert [a["data"]["text"] for a in response.json()["actions"]] == ["pong"]
    assert ticks


async def test_background_work_settles_the_runtime(runtime: Runtime,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """At startup the features warm up and what startup made is set aside from the garbage
    collector; closing the runtime gives it back."""
    warmed: list[str] = []
    monkeypatch.setattr(runtime.registry, "warm_up", lambda: warmed.append("warm"))
    async with background_work(runtime):
        for _ in range(200):
            if gc.get_freeze_count():
                break
            await asyncio.sleep(0.01)
    assert warmed == ["warm"] and gc.get_freeze_count() > 0
    assert gc.get_threshold() == GC_THRESHOLDS
    await runtime.close()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == DEFAULT_GC_THRESHOLDS
