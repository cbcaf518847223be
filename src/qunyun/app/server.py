"""Serving: build the runtime (which migrates), create the API, run it under uvicorn.

While the server runs, two background loops live in the app's lifespan: delivery (actions leave
the outbox) and the scheduler (jobs fire as the clock passes their due time, checked every
second). Both stop cleanly on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

import uvicorn
from fastapi import FastAPI

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.app.connections import connect_platforms
from qunyun.core.config import Config

log = logging.getLogger(__name__)

TICK_S = 1.0
STOP_TIMEOUT_S = 10.0
# Long polls hold connections for up to a minute; shutdown does not wait for them that long.
GRACEFUL_SHUTDOWN_S = 5


async def run_every(interval: float, work: Callable[[], Awaitable[object]],
                    stop: asyncio.Event) -> None:
    """Call `work` every `interval` seconds until `stop` is set; a failed round is logged."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            log.exception("background round failed")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


@asynccontextmanager
async def background_work(runtime: Runtime) -> AsyncIterator[None]:
    """Delivery, the scheduler and the platform connections, running alongside the API."""
    stop = asyncio.Event()
    connectors = connect_platforms(runtime)
    tasks = [
        *(asyncio.create_task(c.run(stop), name=f"qunyun-{c.connection.platform}-"
                              f"{c.connection.name}") for c in connectors),
        asyncio.create_task(runtime.delivery.run_forever(stop), name="qunyun-delivery"),
        asyncio.create_task(run_every(TICK_S, runtime.pipeline.tick, stop),
                            name="qunyun-scheduler"),
        # Dictionaries and tables load now, not when the first member asks a question.
        asyncio.create_task(asyncio.to_thread(runtime.settle), name="qunyun-settle"),
    ]
    try:
        yield
    finally:
        await _stop(tasks, stop)


async def _stop(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    stop.set()
    _done, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


class _Server(uvicorn.Server):
    """Tells the app when shutdown begins, so long polls end before connections are cut."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._app.state.stopping.set()
        await super().shutdown(sockets)


def server_app(runtime: Runtime) -> FastAPI:
    """The API and the dashboard (`/` goes to its overview), background work in the lifespan."""
    from qunyun.web.app import mount_dashboard

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with background_work(runtime):
            yield

    app = create_app(runtime, lifespan=lifespan)
    mount_dashboard(app, runtime)
    return app


async def serve(config: Config) -> None:
    """Migrate, then serve until interrupted (SIGINT / SIGTERM)."""
    runtime = await build_runtime(config)
    try:
        app = server_app(runtime)
        server = _Server(uvicorn.Config(
            app, host=config.host, port=config.port, log_level=config.log_level.lower(),
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, lifespan="on"), app)
        await server.serve()
    finally:
        await runtime.close()
