"""Telegram connections: the adapter registered, updates brought in by long polling or webhook.

Updates become canonical events (the adapter translates) and enter the pipeline; the offset
that confirms them to Telegram moves only once they are durable, and is kept in a small file so
a restart neither loses nor repeats anything (a repeat would be a duplicate anyway: event ids
are stable). When a group becomes a supergroup its row is re-keyed to the new id, so it stays
the same group with its history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import update as sql_update

from qunyun.api.bridge_events import ingest_isolating
from qunyun.app.bootstrap import Runtime, ensure_default_org
from qunyun.community.group_migration import do_migrate_group
from qunyun.community.service import get_organization_by_slug
from qunyun.core.config import ConnectionConfig, PlatformConfig, RateLimitConfig, pydantic_errors
from qunyun.core.errors import InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.outbox import PENDING
from qunyun.pipeline.runner import REJECTED, IngestResult
from qunyun.platforms.telegram import BotApi, BotApiError, Malformed, TelegramPlatform
from qunyun.platforms.telegram.adapter import TELEGRAM_RATE_LIMITS
from qunyun.platforms.telegram.client import DEFAULT_BASE_URL

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "chat_member", "my_chat_member", "chat_join_request"]
RETRY_MAX_S = 60.0
PROBLEMS_KEPT = 100


class TelegramOptions(BaseModel):
    """`[connections.options]` of a Telegram connection."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=3, pattern=r"^\d+:[A-Za-z0-9_-]+$")
    base_url: str = DEFAULT_BASE_URL
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    poll_timeout_s: int = Field(default=30, ge=0, le=50)
    member_source: Literal["chat_member", "service"] = "chat_member"


def telegram_delivery_limits() -> PlatformConfig:
    limits = TELEGRAM_RATE_LIMITS
    return PlatformConfig(
        platform=RateLimitConfig(rate=limits.platform.rate, burst=limits.platform.burst),
        group=RateLimitConfig(rate=limits.group.rate, burst=limits.group.burst))


def parse_options(connection: ConnectionConfig) -> TelegramOptions:
    try:
        options = TelegramOptions.model_validate(connection.options)
    except ValidationError as exc:
        raise InvalidInput(N_("invalid Telegram connection {name}"), name=connection.name,
                           errors=pydantic_errors(exc, "options")) from exc
    if options.mode == "webhook" and not options.webhook_secret:
        raise InvalidInput(N_("a Telegram webhook needs options.webhook_secret"))
    return options


class OffsetStore:
    """The next update id to ask for, written atomically (write, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int:
        try:
            return int(self.path.read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def save(self, offset: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="ascii") as handle:
            handle.write(str(offset))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


@dataclass
class BatchOutcome:
    results: list[IngestResult] = field(default_factory=list)
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (position, reason)
    migrations: list[tuple[str, str, str]] = field(default_factory=list)  # old, new, outcome


class TelegramInbound:
    """Updates → events → the pipeline, with group migrations re-keyed in between."""

    def __init__(self, runtime: Runtime, connection: ConnectionConfig,
                 adapter: TelegramPlatform) -> None:
        self.runtime = runtime
        self.connection = connection
        self.adapter = adapter
        self._org_id: int | None = None
        self.problems: deque[str] = deque(maxlen=PROBLEMS_KEPT)

    async def org_id(self) -> int:
        if self._org_id is None:
            self._org_id = await _org_id(self.runtime, self.connection.org)
        return self._org_id

    async def handle(self, updates: list[Any]) -> BatchOutcome:
        """Ingest `updates` in order; returns once everything accepted is durable."""
        outcome = BatchOutcome()
        pending: list[dict[str, Any]] = []
        for position, update in enumerate(updates):
            try:
                translation = self.adapter.translate(update)
            except Malformed as exc:
                outcome.malformed.append((position, str(exc)))
                self._problem(f"update rejected: {exc}")
                continue
            for event in translation.events:
                pending.append(event)
                if event["type"] == "group.migrated":  # re-key before later events arrive
                    await self._ingest(pending, outcome)
                    pending = []
                    await self._migrate(event["group"], event["data"]["to"], outcome)
        await self._ingest(pending, outcome)
        return outcome

    async def _ingest(self, events: list[dict[str, Any]], outcome: BatchOutcome) -> None:
        if not events:
            return
        results = await ingest_isolating(self.runtime, await self.org_id(), events)
        for result in results:
            if result.status == REJECTED:
                self._problem(f"event {result.id} rejected: "
                              + "; ".join(e.render("en") for e in result.errors))
        outcome.results += results

    async def _migrate(self, old: str, new: str, outcome: BatchOutcome) -> None:
        org_id = await self.org_id()
        async with self.runtime.write_sessions() as session:
            result = await do_migrate_group(session, org_id=org_id, platform=PLATFORM,
                                            old_id=old, new_id=new)
            await session.execute(
                sql_update(ActionRecord)
                .where(ActionRecord.org_id == org_id, ActionRecord.platform == PLATFORM,
                       ActionRecord.group_pid == old, ActionRecord.status == PENDING)
                .values(group_pid=new))
            await session.commit()
        self.adapter.remember_migration(old, new)
        outcome.migrations.append((old, new, result))
        if result == "conflict":
            self._problem(f"group {old} became {new}, but both are known as separate groups")

    def _problem(self, text: str) -> None:
        log.warning("telegram %s: %s", self.connection.name, text)
        self.problems.append(text)


async def _org_id(runtime: Runtime, slug: str) -> int:
    async with runtime.sessions() as session:
        try:
            return int((await get_organization_by_slug(session, slug)).id)
        except NotFound:
            if slug != "default":
                raise
    return await ensure_default_org(runtime.write_sessions, runtime.clock.now(), slug=slug)


class TelegramConnector:
    """Keeps a Telegram connection alive: long polling, or registering the webhook."""

    def __init__(self, runtime: Runtime, connection: ConnectionConfig, options: TelegramOptions,
                 adapter: TelegramPlatform) -> None:
        self.connection = connection
        self.options = options
        self.adapter = adapter
        self.inbound = TelegramInbound(runtime, connection, adapter)
        self.offsets = OffsetStore(
            runtime.config.data_dir / "telegram" / f"{connection.name}.offset")

    async def run(self, stop: asyncio.Event) -> None:
        if self.options.mode == "webhook":
            await self._register_webhook()
            await stop.wait()
            return
        delay = 1.0
        while not stop.is_set():
            try:
                await self.poll_once(stop)
                delay = 1.0
            except BotApiError as exc:
                log.warning("telegram %s: getUpdates failed (%s); again in %.0f s",
                            self.connection.name, exc, delay)
                await _sleep(stop, exc.retry_after or delay)
                delay = min(RETRY_MAX_S, delay * 2)
            except Exception:
                log.exception("telegram %s: update batch failed; again in %.0f s",
                              self.connection.name, delay)
                await _sleep(stop, delay)
                delay = min(RETRY_MAX_S, delay * 2)

    async def poll_once(self, stop: asyncio.Event | None = None) -> BatchOutcome | None:
        """One getUpdates round: fetch, ingest, then move the offset (it confirms them)."""
        offset = self.offsets.load()
        params: dict[str, Any] = {"timeout": self.options.poll_timeout_s,
                                  "allowed_updates": ALLOWED_UPDATES}
        if offset:
            params["offset"] = offset
        call = asyncio.ensure_future(self.adapter.api.call(
            "getUpdates", params, timeout_s=self.options.poll_timeout_s + 10))
        if stop is not None:
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({call, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not call.done():
                call.cancel()
                return None
        updates = await call
        if not isinstance(updates, list) or not updates:
            return None
        outcome = await self.inbound.handle(updates)
        ids = [u["update_id"] for u in updates
               if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        if ids:
            self.offsets.save(max(max(ids) + 1, offset))
        return outcome

    async def _register_webhook(self) -> None:
        if not self.options.webhook_url:
            return  # registered by the operator
        await self.adapter.api.call("setWebhook", {
            "url": self.options.webhook_url, "secret_token": self.options.webhook_secret,
            "allowed_updates": ALLOWED_UPDATES})


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def connect(runtime: Runtime, connection: ConnectionConfig,
            api: BotApi | None = None) -> TelegramConnector:
    """Register the Telegram adapter and return the connector the server runs."""
    options = parse_options(connection)
    existing = runtime.platforms.get(PLATFORM)
    if isinstance(existing, TelegramPlatform):
        raise InvalidInput(N_("only one Telegram connection is supported; {name} is the second"),
                           name=connection.name)
    adapter = TelegramPlatform(api or BotApi(options.token, base_url=options.base_url),
                               member_source=options.member_source)
    runtime.platforms[PLATFORM] = adapter
    runtime.config.platforms.setdefault(PLATFORM, telegram_delivery_limits())
    return TelegramConnector(runtime, connection, options, adapter)


def telegram_connection(runtime: Runtime, name: str) -> tuple[ConnectionConfig, TelegramOptions,
                                                               TelegramPlatform] | None:
    """The named Telegram connection and its adapter, if it is configured and connected."""
    adapter = runtime.platforms.get(PLATFORM)
    if not isinstance(adapter, TelegramPlatform):
        return None
    for connection in runtime.config.connections:
        if connection.platform == PLATFORM and connection.name == name:
            return connection, parse_options(connection), adapter
    return None
