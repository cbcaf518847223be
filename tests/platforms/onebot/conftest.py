"""A runtime with one small test feature (answers "ping" with a reply), and waiting helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.core import events as E
from qunyun.core.actions import send_message
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import Feature, FeatureContext, FeatureRegistry, FeatureSettings
from qunyun.pipeline.models import EventRecord


class PongSettings(FeatureSettings):
    enabled: bool = True


async def _pong(ctx: FeatureContext) -> None:
    event = ctx.event
    if event is not None and str(event.data.get("text", "")).startswith("ping"):
        ctx.emit(send_message("pong", reply_to=str(event.data["message_id"]),
                              mentions=[event.member or ""]))


PONG = Feature(name="pong", title="Pong", description="Answers ping.", order=100,
               events=frozenset({E.MESSAGE_POSTED}), settings_model=PongSettings,
               handle=_pong, on_by_default=True)


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path,
                  clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False,
                             registry=FeatureRegistry([PONG]))
    yield rt
    await rt.close()


async def until(condition: Callable[[], bool], what: str, limit_s: float = 20.0) -> None:
    """Wait for `condition` (a guard against hanging, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.01)


async def stored(runtime: Runtime) -> list[EventRecord]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(EventRecord).order_by(EventRecord.seq))).all())


async def count_events(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(EventRecord)) or 0)
