"""`qunyun bench platforms`: the platform adapters' figures in one run.

OneBot: a local WebSocket peer speaking OneBot 11 (the forward WebSocket server an
implementation runs) streams group messages (CQ strings with @ and reply codes, as QQ sends
them) to the OneBot connector, from a process of its own (as a OneBot implementation is a
program of its own). Two figures, events per second from the first frame sent until
the last one is taken in: `adapter` (socket, JSON, translation, batching; the sink only counts)
and `pipeline` (stored through the real pipeline with the built-in features, in batches, one
unit of work each). Then, where present, the Telegram delivery and import benchmarks run with
their own defaults (`qunyun.cli.bench_telegram`, `qunyun.cli.bench_import`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import tempfile
import time
from collections.abc import Callable
from importlib import import_module
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from websockets.asyncio.server import ServerConnection, serve

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.app.onebot import OneBotConnector, connect
from qunyun.cli.bench import backend, fresh_database, show
from qunyun.cli.common import JsonOption, run
from qunyun.core.config import Config, ConnectionConfig
from qunyun.core.i18n import gettext

ONEBOT_TARGET = 5000  # group-message events per second into the pipeline
SEED = 17
START = 1_763_776_800  # 2025-11-22T10:00:00+08:00
TEXTS = ("早上好", "今天的活动几点开始？", "[CQ:face,id=178]", "收到&#44;谢谢",
         "[CQ:image,file=a.jpg,url=https://example.com/a.jpg]", "哈哈哈哈", "&#91;转发&#93; 好文")


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("platforms")(bench_platforms)


def bench_platforms(
    events: Annotated[int, typer.Option(help="OneBot group messages to stream.", min=1)]
    = 20_000,
    groups: Annotated[int, typer.Option(help="QQ groups they come from.", min=1)] = 200,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Events per unit of work.",
                                            min=1)] = 1000,
    only_onebot: Annotated[bool, typer.Option(
        "--only-onebot", help="Skip the Telegram and import benchmarks.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="A PostgreSQL server URL.")] = None,
    as_json: JsonOption = False,
) -> None:
    """OneBot events/s from a WebSocket peer, then Telegram delivery and import figures."""
    figures: dict[str, Any] = {"onebot": run(lambda: measure_onebot(events, groups,
                                                                    batch_size, db))}
    if not only_onebot:
        figures.update(other_benchmarks(db))
    if as_json:
        show("", figures, as_json=True)
        return
    for name, part in figures.items():
        show(gettext("Platforms benchmark: {name}", name=name), part, as_json=False)


def other_benchmarks(db: str | None) -> dict[str, Any]:
    """The benchmarks other adapters provide, where installed."""
    figures: dict[str, Any] = {}
    for name, module_name in (("telegram", "qunyun.cli.bench_telegram"),
                              ("import", "qunyun.cli.bench_import")):
        try:
            module = import_module(module_name)
        except ModuleNotFoundError:
            figures[name] = {"status": "not available"}
            continue
        figures[name] = module.run(db=db)
    return figures


MEMBERS_PER_GROUP = 50


def group_messages(events: int, groups: int) -> list[str]:
    """The frames the peer sends: `message.group` events in the CQ-string form."""
    rng = random.Random(SEED)
    frames: list[str] = []
    for index in range(events):
        slot = index % groups
        group = 600_000 + slot
        # Each group has its own MEMBERS_PER_GROUP members (as in life: a member posts in the
        # groups she is in, not in every group of the organization).
        user = 10_000_000 + slot * MEMBERS_PER_GROUP + rng.randrange(MEMBERS_PER_GROUP)
        text = rng.choice(TEXTS)
        if index % 7 == 0:
            mentioned = 10_000_000 + slot * MEMBERS_PER_GROUP + rng.randrange(MEMBERS_PER_GROUP)
            text = f"[CQ:at,qq={mentioned}] {text}"
        if index % 11 == 0 and index:
            text = f"[CQ:reply,id={index - 1}]{text}"
        frames.append(orjson.dumps({
            "time": START + index // 100, "self_id": 10001, "post_type": "message",
            "message_type": "group", "sub_type": "normal", "message_id": index,
            "group_id": group, "user_id": user, "anonymous": None, "message": text,
            "raw_message": text, "font": 0,
            "sender": {"user_id": user, "nickname": f"成员{user % 10_000}", "card": "",
                       "role": "member"}}).decode())
    return frames


class Peer:
    """The OneBot side: answers API calls, streams the frames once (not again on a reconnect)."""

    def __init__(self, frames: list[str], on_start: Callable[[], None]) -> None:
        self.frames = frames
        self._on_start = on_start
        self._streamed = False

    async def talk(self, socket: ServerConnection) -> None:
        sender = None
        if not self._streamed:
            self._streamed = True
            sender = asyncio.create_task(self._stream(socket))
        async for frame in socket:
            request = orjson.loads(frame)
            await socket.send(orjson.dumps({"status": "ok", "retcode": 0, "data": [],
                                            "echo": request.get("echo")}).decode())
        if sender is not None:
            await sender

    async def _stream(self, socket: ServerConnection) -> None:
        self._on_start()
        for frame in self.frames:
            await socket.send(frame)


def run_peer(events: int, groups: int, news: Connection, stop: EventType) -> None:
    """A OneBot implementation's WebSocket server, in its own process as in life (QQ's
    OneBot implementations are programs of their own): its sending costs the connector
    nothing. Sends its port, then the monotonic time it starts streaming; serves until
    `stop` is set."""

    async def serve_until_stopped() -> None:
        peer = Peer(group_messages(events, groups), lambda: news.send(_monotonic()))
        async with serve(peer.talk, "127.0.0.1", 0, max_size=None,
                         ping_interval=None) as server:
            news.send(next(iter(server.sockets)).getsockname()[1])
            await asyncio.to_thread(stop.wait)

    asyncio.run(serve_until_stopped())


def _monotonic() -> float:
    """The system's monotonic clock: one clock for the peer's process and this one."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


async def _counting_sink(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [("accepted", None)] * len(events)


async def stream_through(runtime: Runtime, events: int, groups: int, batch_size: int,
                         pipeline: bool) -> tuple[float, OneBotConnector]:
    """Seconds from the first frame sent until every one is taken in."""
    context = multiprocessing.get_context("spawn")  # no copy of this process's threads
    news, peer_end = context.Pipe(duplex=False)
    stop = context.Event()
    process = context.Process(target=run_peer, args=(events, groups, peer_end, stop),
                              daemon=True)
    process.start()
    try:
        port = await asyncio.to_thread(news.recv)
        connector = connect(runtime, ConnectionConfig(
            platform="onebot", name=f"bench-{'pipeline' if pipeline else 'adapter'}",
            options={"mode": "forward", "url": f"ws://127.0.0.1:{port}/",
                     "roster_sync": False, "batch_size": batch_size}))
        inbound = connector.bot.inbound
        if not pipeline:
            inbound._sink = _counting_sink  # measure the adapter alone
        stopping = asyncio.Event()
        task = asyncio.create_task(connector.run(stopping))
        while inbound.settled() < events:
            inbound.progress.clear()
            await inbound.progress.wait()
        elapsed = _monotonic() - await asyncio.to_thread(news.recv)
        stopping.set()
        await task
    finally:
        stop.set()
        await asyncio.to_thread(process.join, 10)
    return elapsed, connector


async def measure_onebot(events: int, groups: int, batch_size: int,
                         server: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="qunyun-bench-") as workdir:
        async with fresh_database(server, Path(workdir)) as url:
            runtime = await build_runtime(Config(data_dir=Path(workdir), database_url=url))
            runtime.settle()  # as the server does at startup
            try:
                adapter_s, _ = await stream_through(runtime, events, groups, batch_size, False)
                pipeline_s, connector = await stream_through(runtime, events, groups,
                                                             batch_size, True)
            finally:
                await runtime.close()
    stats = connector.bot.inbound.stats
    rate = events / pipeline_s
    return {"benchmark": "onebot", "backend": backend(server), "events": events,
            "groups": groups, "batch_size": batch_size,
            "features": ", ".join(f.name for f in runtime.registry if f.on_by_default),
            "adapter_elapsed_s": round(adapter_s, 3),
            "adapter_events_per_s": round(events / adapter_s, 1),
            "pipeline_elapsed_s": round(pipeline_s, 3), "pipeline_events_per_s": round(rate, 1),
            "target_events_per_s": ONEBOT_TARGET, "meets_target": rate >= ONEBOT_TARGET,
            "accepted": stats.accepted, "duplicate": stats.duplicate,
            "rejected": stats.rejected}
