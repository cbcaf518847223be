"""The WeCom connection: callbacks in, re-fetch after each change, reconcile every group.

`connect` validates the connection's options, registers the corp with the `wecom` adapter and
returns the connector. Callbacks arrive through the API (`qunyun.api.wecom`), which verifies and
decrypts them and hands the plaintext to `WecomConnector.receive`: the translated events are
ingested (durable before WeCom gets its "success"), and the group is re-fetched shortly after.
`run` reconciles every group of the corp periodically. Callback events and reconcile events of
one group are serialized by a lock, and checked against the stored roster, so a late callback
that the reconcile already covered has no effect.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select

from qunyun.app.bootstrap import DEFAULT_ORG_SLUG, ensure_default_org
from qunyun.community.models import Group, Membership, Organization, PlatformAccount
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.core import events as E
from qunyun.core.actions import SEND_MESSAGE
from qunyun.core.config import ConnectionConfig, pydantic_errors
from qunyun.core.errors import InvalidInput, NotFound
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.outbox import TASK
from qunyun.pipeline.runner import IngestResult
from qunyun.platforms.wecom import Corp, WecomPlatform
from qunyun.platforms.wecom.callbacks import (
    PLATFORM,
    contact_state,
    needs_refetch,
    parse_callback,
    translate,
)
from qunyun.platforms.wecom.client import API_BASE, QuotaExhausted, WecomApiError, WecomClient
from qunyun.platforms.wecom.crypto import AES_KEY_LENGTH, WecomCrypto
from qunyun.platforms.wecom.platform import MASS_SEND_CREATED
from qunyun.platforms.wecom.quota import PER_HOUR, PER_MINUTE, QuotaMeter
from qunyun.platforms.wecom.roster import KnownGroup, KnownMember, diff

if TYPE_CHECKING:
    from qunyun.app.bootstrap import Runtime

log = logging.getLogger(__name__)
CODES_KEPT = 100_000  # channel codes remembered from contact adds
REFETCH_ATTEMPTS = 3


class WecomOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    corp_id: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1, max_length=64)
    encoding_aes_key: str = Field(min_length=AES_KEY_LENGTH, max_length=AES_KEY_LENGTH)
    secret: str = Field(min_length=1)  # the customer-contact (客户联系) secret
    api_base: str = API_BASE
    refetch_delay_s: float = Field(default=3.0, ge=0)
    reconcile_interval_s: float = Field(default=3600.0, gt=0)
    quota_per_minute: int = Field(default=PER_MINUTE, ge=1)
    quota_per_hour: int = Field(default=PER_HOUR, ge=1)


class OutboxLedger:
    """Mass-sends counted from the outbox: a `message.send` to the group that WeCom accepted
    as a mass-send task (recorded as a staff task with that reason) this month."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def sent_this_month(self, chat_id: str, month_start: datetime) -> int:
        async with self._runtime.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(ActionRecord)
                .where(ActionRecord.platform == PLATFORM, ActionRecord.group_pid == chat_id,
                       ActionRecord.type == SEND_MESSAGE, ActionRecord.status == TASK,
                       ActionRecord.last_error == MASS_SEND_CREATED,
                       ActionRecord.finished_at >= month_start))
        return int(count or 0)


def wecom_platform(runtime: Runtime) -> WecomPlatform:
    platform = runtime.platforms.get(PLATFORM)
    if not isinstance(platform, WecomPlatform):
        platform = WecomPlatform(runtime.clock.now, OutboxLedger(runtime))
        runtime.platforms[PLATFORM] = platform
    return platform


def check_options(connection: ConnectionConfig) -> WecomOptions:
    try:
        options = WecomOptions.model_validate(connection.options)
        WecomCrypto(options.token, options.encoding_aes_key, options.corp_id).key  # noqa: B018
    except ValidationError as exc:
        raise InvalidInput("invalid WeCom connection {name}", name=connection.name,
                           errors=pydantic_errors(exc, "options")) from exc
    except ValueError as exc:
        raise InvalidInput("invalid WeCom connection {name}: {reason}", name=connection.name,
                           reason=str(exc)) from exc
    return options


def connect(runtime: Runtime, connection: ConnectionConfig, *,
            client: WecomClient | None = None) -> WecomConnector:
    options = check_options(connection)
    client = client or WecomClient(
        options.corp_id, options.secret, base_url=options.api_base,
        meter=QuotaMeter(options.quota_per_minute, options.quota_per_hour))
    connector = WecomConnector(runtime, connection, options, client)
    wecom_platform(runtime).add_corp(connector.corp)
    return connector


class WecomConnector:
    def __init__(self, runtime: Runtime, connection: ConnectionConfig, options: WecomOptions,
                 client: WecomClient) -> None:
        self.runtime = runtime
        self.connection = connection
        self.options = options
        self.client = client
        self.crypto = WecomCrypto(options.token, options.encoding_aes_key, options.corp_id)
        self.corp = Corp(connection.name, client, crypto=self.crypto, receive=self.receive)
        self._org_id: int | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._codes: OrderedDict[str, str] = OrderedDict()
        self._stored: dict[str, int] = {}  # callbacks stored per group (see reconcile_group)
        self._waiting: set[str] = set()  # groups whose re-fetch has not started yet
        self._refetches: set[asyncio.Task[None]] = set()

    @property
    def platform(self) -> WecomPlatform:
        return wecom_platform(self.runtime)

    async def org_id(self) -> int:
        """The connection's organization; the default one is created on first use."""
        if self._org_id is None:
            slug = self.connection.org
            if slug == DEFAULT_ORG_SLUG:
                self._org_id = await ensure_default_org(self.runtime.sessions,
                                                        self.runtime.clock.now())
                return self._org_id
            async with self.runtime.sessions() as session:
                found = await session.scalar(select(Organization.id).where(
                    Organization.slug == slug))
            if found is None:
                raise NotFound("no organization {slug}", slug=slug)
            self._org_id = int(found)
        return self._org_id

    def _lock(self, chat_id: str) -> asyncio.Lock:
        return self._locks.setdefault(chat_id, asyncio.Lock())

    def remember_code(self, user: str, state: str) -> None:
        self._codes[user] = state
        self._codes.move_to_end(user)
        while len(self._codes) > CODES_KEPT:
            self._codes.popitem(last=False)

    # --- callbacks ------------------------------------------------------------------------

    async def receive(self, plaintext: str) -> list[IngestResult]:
        """A decrypted callback: its events stored (durable on return), a re-fetch scheduled."""
        callback = parse_callback(plaintext)
        if (state := contact_state(callback)) is not None:
            self.remember_code(*state)
        events = translate(callback, self.runtime.clock.now(), self._codes)
        results: list[IngestResult] = []
        if events:
            async with self._lock(callback.chat_id):
                known = await self.known_group(callback.chat_id)
                fresh = [e for e in events if _still_news(e, known)]
                if fresh:
                    results = await self.runtime.pipeline.ingest(await self.org_id(), fresh)
                    self._stored[callback.chat_id] = self._stored.get(callback.chat_id, 0) + 1
        for result in results:
            if result.status == "rejected":
                log.warning("WeCom callback event %s rejected: %s", result.id, result.errors)
        if needs_refetch(callback):
            self.schedule_refetch(callback.chat_id)
        return results

    def schedule_refetch(self, chat_id: str) -> None:
        """Re-fetch the group shortly; callbacks before it starts share one re-fetch."""
        if chat_id in self._waiting:
            return
        self._waiting.add(chat_id)
        task = asyncio.create_task(self._refetch(chat_id), name=f"wecom-refetch-{chat_id}")
        self._refetches.add(task)
        task.add_done_callback(self._refetches.discard)

    async def _refetch(self, chat_id: str) -> None:
        try:
            await asyncio.sleep(self.options.refetch_delay_s)
        finally:
            self._waiting.discard(chat_id)
        try:
            await self.reconcile_group(chat_id)
        except Exception:
            log.exception("WeCom re-fetch of %s failed", chat_id)

    async def drain(self) -> None:
        """Wait for the scheduled re-fetches (tests, shutdown)."""
        while self._refetches:
            await asyncio.gather(*self._refetches, return_exceptions=True)

    # --- reconcile ------------------------------------------------------------------------

    async def reconcile_group(self, chat_id: str) -> list[IngestResult]:
        """Bring the stored group to what `groupchat/get` says. The API is called outside the
        group's lock (a callback need not wait for it); if a callback of the group was stored
        meanwhile, the answer may predate it, so the group is fetched again."""
        for _attempt in range(REFETCH_ATTEMPTS):
            seen = self._stored.get(chat_id, 0)
            chat = await self.client.groupchat_get(chat_id)
            self.platform.learn(self.corp.name, chat_id, str(chat.get("owner") or "") or None)
            async with self._lock(chat_id):
                if self._stored.get(chat_id, 0) != seen and _attempt + 1 < REFETCH_ATTEMPTS:
                    continue
                known = await self.known_group(chat_id)
                events = diff(chat, known, self.runtime.clock.now(), self._codes)
                if not events:
                    return []
                return await self.runtime.pipeline.ingest(await self.org_id(), events)
        return []

    async def reconcile_all(self) -> int:
        """Reconcile every customer group of the corp; returns the events ingested."""
        count = 0
        for chat_id in await self.client.groupchat_ids():
            try:
                results = await self._reconcile_in_quota(chat_id)
            except WecomApiError as exc:
                if exc.retryable:
                    raise
                log.warning("WeCom group %s not reconciled: %s", chat_id, exc)
                continue
            count += sum(1 for r in results if r.status == "accepted")
        return count

    async def _reconcile_in_quota(self, chat_id: str) -> list[IngestResult]:
        """Reconcile one group, waiting for the quota when the meter says it is used up."""
        while True:
            try:
                return await self.reconcile_group(chat_id)
            except QuotaExhausted as exc:
                await self.client.sleep(exc.retry_after)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await self.reconcile_all()
                except Exception:
                    log.exception("WeCom reconcile of %s failed", self.connection.name)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.options.reconcile_interval_s)
        finally:
            for task in list(self._refetches):
                task.cancel()
            await asyncio.gather(*self._refetches, return_exceptions=True)
            await self.client.close()

    async def known_group(self, chat_id: str) -> KnownGroup:
        org_id = await self.org_id()
        async with self.runtime.sessions() as session:
            group = (await session.execute(
                select(Group.id, Group.name, Group.notice, Group.status)
                .where(Group.org_id == org_id, Group.platform == PLATFORM,
                       Group.platform_id == chat_id))).first()
            if group is None:
                return KnownGroup(exists=False)
            rows = (await session.execute(
                select(PlatformAccount.platform_user_id, Membership.id,
                       PlatformAccount.display_name)
                .join(PlatformAccount, PlatformAccount.person_id == Membership.person_id)
                .where(Membership.group_id == group.id, Membership.status == MEMBERSHIP_ACTIVE,
                       PlatformAccount.platform == PLATFORM))).all()
        members = {str(user): KnownMember(int(mid), str(name or "")) for user, mid, name in rows}
        return KnownGroup(True, group.name or "", group.notice or "",
                          group.status == "dismissed", members)


def _still_news(event: dict[str, Any], known: KnownGroup) -> bool:
    """A callback's event that the stored roster does not already reflect."""
    member = event.get("member")
    if event["type"] == E.MEMBER_JOINED:
        return member not in known.members
    if event["type"] == E.MEMBER_LEFT:
        return member in known.members
    return True
