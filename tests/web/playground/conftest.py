"""Fixtures of the playground tests: a runtime whose bot answers (a test-only feature), an
organization with two stores, signed-in staff, and a served app on a free port for the stream."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.app.features import builtin_features
from qunyun.app.server import server_app
from qunyun.community.access import Scope
from qunyun.community.service import do_create_community, do_create_group
from qunyun.community.staff_service import cli_principal, do_create_staff
from qunyun.community.staff_sessions import open_session
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry
from qunyun.web.deps import SESSION_COOKIE
from tests.conftest import START
from tests.web.playground.bot import playground_bot

PASSWORD = "correct horse battery"
SHANGHAI = Scope(whole_org=False, stores=frozenset({"上海店"}))


@dataclass(frozen=True, slots=True)
class Place:
    org_id: int
    community_id: int
    shanghai: int  # playground group of 上海店
    beijing: int  # playground group of 北京店
    bridge: int  # a group on another platform


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    registry = FeatureRegistry([*builtin_features(), playground_bot()])
    rt = await build_runtime(config, clock=clock, migrate=False, registry=registry)
    yield rt
    await rt.close()


@pytest.fixture
async def place(runtime: Runtime) -> Place:
    org_id = await ensure_default_org(runtime.sessions, START)
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        community = await do_create_community(session, org_id=org_id, name="米粉同城会", at=now)
        ids = [(await do_create_group(session, org_id=org_id, platform=platform,
                                      platform_id=pid, name=name, at=now,
                                      community_id=community.id, store=store)).id
               for platform, pid, name, store in (
                   ("playground", "pg-sh", "上海试玩群", "上海店"),
                   ("playground", "pg-bj", "北京试玩群", "北京店"),
                   ("bridge", "b1", "桥接群", "上海店"))]
        await session.commit()
    return Place(org_id, community.id, *ids)


def dashboard_app(runtime: Runtime) -> FastAPI:
    """The app `qunyun serve` runs: API, dashboard, background delivery."""
    return server_app(runtime)


async def session_cookie(runtime: Runtime, org_id: int, username: str, role: str,
                         scope: Scope | None = None) -> str:
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        user = await do_create_staff(session, principal=cli_principal(org_id), username=username,
                                     password=PASSWORD, role=role, scope=scope or Scope(), at=now)
        signed = await open_session(session, user=user, at=now)
        await session.commit()
    return signed.token


def client_for(app: FastAPI, token: str, base_url: str = "http://test") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app) if base_url == "http://test" else None
    client = httpx.AsyncClient(transport=transport, base_url=base_url,
                               headers={"Accept": "text/html"}, timeout=10)
    client.cookies.set(SESSION_COOKIE, token)
    return client


@pytest.fixture
async def owner(runtime: Runtime, place: Place) -> AsyncIterator[httpx.AsyncClient]:
    token = await session_cookie(runtime, place.org_id, "boss", "owner")
    async with client_for(dashboard_app(runtime), token) as client:
        yield client


@pytest.fixture
async def guide(runtime: Runtime, place: Place) -> AsyncIterator[httpx.AsyncClient]:
    token = await session_cookie(runtime, place.org_id, "sh-guide", "guide", SHANGHAI)
    async with client_for(dashboard_app(runtime), token) as client:
        yield client


@pytest.fixture
async def viewer(runtime: Runtime, place: Place) -> AsyncIterator[httpx.AsyncClient]:
    token = await session_cookie(runtime, place.org_id, "watcher", "viewer")
    async with client_for(dashboard_app(runtime), token) as client:
        yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served(runtime: Runtime) -> AsyncIterator[str]:
    """The dashboard app served by uvicorn on a free port, in this test's event loop, with its
    background delivery running; yields the base URL."""
    port = free_port()
    app = dashboard_app(runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    app.state.stopping.set()  # streams end, as on `qunyun serve` shutdown
    server.should_exit = True
    await asyncio.wait_for(task, 15)


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]
