"""Servers the browser tests drive: `qunyun serve` in a subprocess on a demo database, and an
in-process uvicorn whose bot answers (a test-only feature registered through `build_runtime`)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.app.server import server_app
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry

READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def wait_until_ready(base_url: str, alive: Callable[[], bool], log: Path | None = None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if not alive():
            detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"the server stopped while starting:\n{detail}")
        try:
            if httpx.get(f"{base_url}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {base_url} did not answer /login in time")


@dataclass
class ServeProcess:
    """`qunyun serve` on a database file, in its own process."""

    database: Path
    workdir: Path
    base_url: str = ""
    _process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServeProcess:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        log = self.workdir / "serve.log"
        env = {**os.environ, "QUNYUN_LOG_LEVEL": "WARNING", "QUNYUN_DATA_DIR": str(self.workdir)}
        with log.open("wb") as out:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "qunyun", "serve", "--db", str(self.database),
                 "--host", "127.0.0.1", "--port", str(port)],
                cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_until_ready(self.base_url, lambda: self._process is not None
                         and self._process.poll() is None, log)
        return self

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)


def dashboard_app(runtime: Runtime) -> FastAPI:
    """The app `qunyun serve` runs: API, dashboard, background delivery."""
    return server_app(runtime)


class ThreadServer:
    """The served app of a runtime built here (any feature registry), in a thread of its own
    with its own event loop; `prepare` runs on the runtime before serving."""

    def __init__(self, config: Config, registry: FeatureRegistry,
                 prepare: Callable[[Runtime], Awaitable[None]]) -> None:
        self._config, self._registry, self._prepare = config, registry, prepare
        self.base_url = f"http://127.0.0.1:{free_port()}"
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app: FastAPI | None = None
        self._thread = threading.Thread(target=self._run, name="browser-test-server",
                                        daemon=True)

    def start(self) -> ThreadServer:
        self._thread.start()
        self._ready.wait(READY_TIMEOUT_S)
        if self._error is not None:
            raise RuntimeError("the in-process server failed to start") from self._error
        wait_until_ready(self.base_url, self._thread.is_alive)
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test through start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        runtime = await build_runtime(self._config, registry=self._registry)
        try:
            await self._prepare(runtime)
            self._app = dashboard_app(runtime)
            port = int(self.base_url.rsplit(":", 1)[1])
            self._server = uvicorn.Server(uvicorn.Config(
                self._app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._server.serve()
        finally:
            await runtime.close()

    def stop(self) -> None:
        if self._loop is not None and self._app is not None and self._server is not None:
            stopping: asyncio.Event = self._app.state.stopping
            self._loop.call_soon_threadsafe(stopping.set)  # streams end first
            self._server.should_exit = True
        self._thread.join(30)
