"""OneBot 11 connections: `connect(runtime, connection)` registers the adapter and returns the
connector that keeps the connection alive.

- forward: qunyun dials the implementation's WebSocket server (`url`, the universal `/`),
  reconnecting after `reconnect_s` whenever the connection drops;
- reverse: the implementation dials `/api/v1/onebot/<name>/ws` (see qunyun.api.onebot);
- http: the implementation POSTs events to `/api/v1/onebot/<name>/events`, qunyun calls its
  HTTP API at `api_url`.

Events reach the pipeline in batches (one unit of work each); the roster is synced on every
new link and then every `roster_interval_s`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import WebSocketException

from qunyun.app.bootstrap import DEFAULT_ORG_SLUG, ensure_default_org
from qunyun.community.service import get_organization_by_slug
from qunyun.core.config import ConnectionConfig, PlatformConfig, RateLimitConfig, pydantic_errors
from qunyun.core.errors import InvalidInput
from qunyun.platforms.onebot import Bot, OneBotPlatform
from qunyun.platforms.onebot.link import HttpApi, LinkDown, WsSession
from qunyun.platforms.onebot.options import OneBotOptions
from qunyun.platforms.onebot.roster import group_ids, roster_events

if TYPE_CHECKING:
    from qunyun.app.bootstrap import Runtime

log = logging.getLogger(__name__)
MAX_FRAME = 64 * 1024 * 1024
# A large batch keeps the event loop busy for a while; answer the implementation's pings late
# rather than drop the connection.
PING_TIMEOUT_S = 120.0


def onebot_platform(runtime: Runtime) -> OneBotPlatform:
    """The OneBot adapter of `runtime`, registered (with its default limits) on first use."""
    platform = runtime.platforms.get("onebot")
    if not isinstance(platform, OneBotPlatform):
        platform = OneBotPlatform()
        runtime.platforms["onebot"] = platform
    if "onebot" not in runtime.config.platforms:
        limits = platform.rate_limits
        runtime.config.platforms["onebot"] = PlatformConfig(
            platform=RateLimitConfig(rate=limits.platform.rate, burst=limits.platform.burst),
            group=RateLimitConfig(rate=limits.group.rate, burst=limits.group.burst))
    return platform


def check_options(connection: ConnectionConfig) -> OneBotOptions:
    try:
        return OneBotOptions.model_validate(connection.options)
    except ValidationError as exc:
        raise InvalidInput("invalid OneBot connection {name}", name=connection.name,
                           errors=pydantic_errors(exc, prefix="options")) from exc


def pipeline_sink(runtime: Runtime, org_slug: str) -> Any:
    """The sink of a bot's events: the pipeline's ingest for the connection's organization."""
    from qunyun.api.bridge_events import ingest_isolating

    org_ids: list[int] = []

    async def sink(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        if not org_ids:
            org_ids.append(await org_id_for(runtime, org_slug))
        results = await ingest_isolating(runtime, org_ids[0], events)
        return [(r.status, "; ".join(e.render("en") for e in r.errors) or None)
                for r in results]

    return sink


async def org_id_for(runtime: Runtime, slug: str) -> int:
    if slug == DEFAULT_ORG_SLUG:
        return await ensure_default_org(runtime.sessions, runtime.clock.now())
    async with runtime.sessions() as session:
        return int((await get_organization_by_slug(session, slug)).id)


class OneBotConnector:
    def __init__(self, runtime: Runtime, connection: ConnectionConfig, bot: Bot,
                 platform: OneBotPlatform) -> None:
        self.connection = connection
        self.bot = bot
        self.platform = platform
        self._runtime = runtime

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [asyncio.create_task(self.bot.inbound.drain(stop)),
                 asyncio.create_task(self._roster_loop(stop))]
        options = self.bot.options
        try:
            if options.mode == "forward":
                await self._forward(stop)
            else:
                http = HttpApi(options.api_url, options.access_token) \
                    if options.mode == "http" and options.api_url else None
                if http is not None:
                    self.bot.attach(http)
                await stop.wait()
                if http is not None:
                    self.bot.detach(http)
                    await http.close()
        finally:
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- forward WebSocket -------------------------------------------------------------

    async def _forward(self, stop: asyncio.Event) -> None:
        options = self.bot.options
        headers = {"Authorization": f"Bearer {options.access_token}"} \
            if options.access_token else {}
        assert options.url is not None
        while not stop.is_set():
            try:
                # No per-message deflate: the implementation runs next to qunyun, and
                # compressing every event costs more CPU than the bandwidth it saves.
                async with ws_connect(options.url, additional_headers=headers,
                                      max_size=MAX_FRAME, compression=None,
                                      ping_timeout=PING_TIMEOUT_S) as socket:
                    await self._serve(socket, stop)
            except (OSError, WebSocketException, TimeoutError) as exc:
                log.warning("OneBot %s: connection to %s failed: %s", self.bot.name,
                            options.url, exc)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), options.reconnect_s)

    async def _serve(self, socket: ClientConnection, stop: asyncio.Event) -> None:
        session = WsSession(socket.send)
        self.bot.attach(session)
        closer = asyncio.create_task(_close_on(stop, socket))
        try:
            async for frame in socket:
                await self.bot.receive(frame, session)
        except WebSocketException as exc:
            log.warning("OneBot %s: connection lost: %s", self.bot.name, exc)
        finally:
            session.close()
            self.bot.detach(session)
            closer.cancel()

    # --- roster ------------------------------------------------------------------------

    async def _roster_loop(self, stop: asyncio.Event) -> None:
        options = self.bot.options
        if not options.roster_sync:
            return
        synced_generation, synced_at = 0, 0.0
        while not stop.is_set():
            link = self.bot.link
            due = time.monotonic() - synced_at >= options.roster_interval_s
            if link is not None and (self.bot.generation != synced_generation or due):
                synced_generation, synced_at = self.bot.generation, time.monotonic()
                try:
                    await self.sync_roster()
                except Exception:  # a bad answer or a store failure: try at the next round
                    log.exception("OneBot %s: roster sync failed", self.bot.name)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def sync_roster(self) -> int:
        """Every group's member list into the event log (imported); how many events."""
        link = self.bot.link
        if link is None:
            return 0
        count = 0
        try:
            for group in await group_ids(link):
                self.platform.serve_group(group, self.bot)
                events = await roster_events(link, group)
                await self.bot.inbound.ingest(events)
                count += len(events)
        except LinkDown as exc:
            log.warning("OneBot %s: roster sync stopped: %s", self.bot.name, exc)
        return count


async def _close_on(stop: asyncio.Event, socket: ClientConnection) -> None:
    await stop.wait()
    await socket.close()


def connect(runtime: Runtime, connection: ConnectionConfig) -> OneBotConnector:
    options = check_options(connection)
    platform = onebot_platform(runtime)
    bot = platform.add_bot(Bot(connection.name, options,
                               pipeline_sink(runtime, connection.org), org=connection.org))
    return OneBotConnector(runtime, connection, bot, platform)
