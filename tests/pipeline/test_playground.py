"""The playground platform: groups inside qunyun; the bot's actions land in a live feed."""

from __future__ import annotations

import asyncio

from qunyun.core.actions import Action
from tests import factories as f
from tests.pipeline import fakes
from tests.pipeline.conftest import RuntimeFactory


async def test_actions_are_delivered_into_the_group_feed(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(fakes.echo())
    feed = rt.playground.follow("room1")
    waiter = asyncio.ensure_future(anext(feed))
    await asyncio.sleep(0)  # let the follower subscribe
    await rt.pipeline.ingest(org, [f.message("u1", "echo 你好", platform="playground",
                                             group="room1")])
    await rt.delivery.run_once()

    item = await asyncio.wait_for(waiter, 1)
    assert item["kind"] == "action"
    assert item["action"]["type"] == "message.send"
    assert item["action"]["data"]["text"] == "echo: echo 你好"
    assert rt.playground.recent("room1") == [item]
    await feed.aclose()


async def test_redelivery_has_one_effect(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(fakes.echo())
    await rt.pipeline.ingest(org, [f.message("u1", "echo x", platform="playground", group="r")])
    await rt.delivery.run_once()
    [item] = rt.playground.recent("r")
    body = item["action"]
    action = Action(id=body["id"], type=body["type"], platform=body["platform"],
                    group=body["group"], member=body.get("member"), caused_by=body["caused_by"],
                    data=body["data"])
    await rt.playground.deliver(action)  # a retry after a crash, same idempotency key
    assert len(rt.playground.recent("r")) == 1
