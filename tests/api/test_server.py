"""The server's background work: delivery and the scheduler run beside the API."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from qunyun.app.bootstrap import Runtime
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
