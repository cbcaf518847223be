"""Fixtures for the API: a runtime with small test-only features, an HTTP client, tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import Field

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.service import do_create_community, do_create_organization, do_create_token
from qunyun.core import events as E
from qunyun.core.actions import send_message
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import Feature, FeatureContext, FeatureRegistry, FeatureSettings
from qunyun.features.stats.plugin import FEATURE as STATS


class EchoSettings(FeatureSettings):
    enabled: bool = True
    answer: str = Field(default="pong", description="What to answer to ping.")


async def _echo(ctx: FeatureContext) -> None:
    """Answers a message starting with "ping" in the group, as a reply."""
    event = ctx.event
    if event is not None and str(event.data.get("text", "")).startswith("ping"):
        ctx.emit(send_message(ctx.settings.answer, reply_to=str(event.data["message_id"])))


async def _boom(ctx: FeatureContext) -> None:
    if ctx.event is not None and ctx.event.data.get("text") == "boom":
        raise RuntimeError("boom on purpose")


ECHO = Feature(name="echo", title="Echo", description="Answers ping with pong.", order=100,
               events=frozenset({E.MESSAGE_POSTED}), settings_model=EchoSettings, handle=_echo,
               on_by_default=True)
BOOM = Feature(name="boom", title="Boom", description="Fails on the message boom.", order=200,
               events=frozenset({E.MESSAGE_POSTED}), settings_model=EchoSettings, handle=_boom,
               on_by_default=True)


def api_registry() -> FeatureRegistry:
    return FeatureRegistry([STATS, ECHO, BOOM])


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    """The runtime of every API test: stats plus the test-only echo and boom features."""
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False, registry=api_registry())
    yield rt
    await rt.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def make_token(runtime: Runtime, org_id: int, kind: str, name: str | None = None) -> str:
    async with runtime.write_sessions() as session:
        token = await do_create_token(session, org_id=org_id, name=name or f"{kind}-token",
                                      kind=kind, at=runtime.clock.now())
        await session.commit()
    return token


async def make_org(runtime: Runtime, slug: str, name: str) -> int:
    async with runtime.write_sessions() as session:
        org = await do_create_organization(session, name=name, slug=slug, at=runtime.clock.now())
        await do_create_community(session, org_id=org.id, name=f"{name} community",
                                  at=runtime.clock.now())
        await session.commit()
        return org.id


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
async def api_headers(runtime: Runtime, org_id: int) -> dict[str, str]:
    return bearer(await make_token(runtime, org_id, "api", "运营小李"))


@pytest.fixture
async def bridge_headers(runtime: Runtime, org_id: int) -> dict[str, str]:
    return bearer(await make_token(runtime, org_id, "bridge", "qq-bridge"))


async def post_events(client: httpx.AsyncClient, headers: dict[str, str],
                      events: list[dict[str, Any]]) -> dict[str, Any]:
    response = await client.post("/api/v1/bridge/events", json=events, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
