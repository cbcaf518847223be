"""The playground platform's feed: followers registered at once, slow ones dropped, a bounded
memory of delivered actions, hooks that cannot break a delivery."""

from __future__ import annotations

import asyncio

import pytest

from qunyun.core.actions import Action
from qunyun.platforms import playground as pg
from qunyun.platforms.playground import PlaygroundPlatform


def action(n: int, kind: str = "message.send") -> Action:
    return Action(id=f"a{n}", type=kind, platform="playground", group="g", member="u",
                  caused_by=f"e{n}", data={"text": str(n)})


async def test_a_subscription_sees_what_is_published_after_it() -> None:
    platform = PlaygroundPlatform()
    platform.publish("g", {"n": 0})
    follower = platform.subscribe("g")
    platform.publish("g", {"n": 1})
    platform.publish("other", {"n": 2})
    assert await asyncio.wait_for(follower.get(), 1) == {"n": 1}
    assert platform.followers("g") == 1
    follower.close()
    assert platform.followers("g") == 0


async def test_a_follower_that_falls_behind_is_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "FOLLOWER_BACKLOG", 3)
    platform = PlaygroundPlatform()
    slow, reader = platform.subscribe("g"), platform.subscribe("g")
    for n in range(5):
        platform.publish("g", {"n": n})
        assert await reader.get() == {"n": n}  # keeps up
    received = [await slow.get() for _ in range(3)]
    assert received == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert await slow.get() is None  # dropped: it should reload and follow again
    assert platform.followers("g") == 1
    reader.close()


async def test_the_memory_of_delivered_actions_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "DELIVERED_KEPT", 3)
    platform = PlaygroundPlatform()
    for n in range(5):
        await platform.deliver(action(n))
    assert platform.delivered == {"a2", "a3", "a4"}
    await platform.deliver(action(4))  # a retry: one effect
    assert len(platform.recent("g")) == 5


async def test_a_failing_hook_does_not_fail_the_delivery() -> None:
    platform = PlaygroundPlatform()
    seen: list[str] = []

    async def broken(_action: Action) -> None:
        raise RuntimeError("boom")

    async def record(done: Action) -> None:
        seen.append(done.id)

    platform.on_delivered.extend([broken, record])
    result = await platform.deliver(action(1, "member.kick"))
    assert result.status == "done" and seen == ["a1"]
