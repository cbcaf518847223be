"""The pipeline: one unit of work per batch of events.

dedupe → event log → identities → features in order → outbox → commit. Batches are processed one
at a time (a single writer), so the events of a group are handled strictly in order.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qunyun.community.identity import GroupRow, IdentityBatch
from qunyun.community.models import Group
from qunyun.community.settings import GroupScope
from qunyun.core.actions import SEND_MESSAGE, Action, ActionRequest, action_id, send_private
from qunyun.core.clock import Clock, ManualClock
from qunyun.core.errors import FieldError, InvalidInput
from qunyun.core.events import Event, parse_event
from qunyun.core.features import (
    Feature,
    FeatureContext,
    FeatureRegistry,
    GroupInfo,
    Handler,
    Job,
    MemberInfo,
)
from qunyun.core.i18n import gettext
from qunyun.db.dialect import among, bulk_insert
from qunyun.db.uow import UnitOfWork
from qunyun.pipeline.identities import platform_keys, resolve_group, resolve_member
from qunyun.pipeline.messages import message_finder, message_ref
from qunyun.pipeline.models import EventRecord, FeatureFailure
from qunyun.pipeline.outbox import PENDING, SKIPPED, TASK, Outbox, OutboxEntry
from qunyun.pipeline.scheduler import Scheduler
from qunyun.pipeline.settings_cache import GroupSettings, SettingsCache

log = logging.getLogger(__name__)

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class IngestResult:
    index: int
    id: str | None
    status: str
    errors: tuple[FieldError, ...] = ()

    def as_dict(self, locale: str = "zh_CN") -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.index, "id": self.id, "status": self.status}
        if self.errors:
            body["reason"] = "; ".join(e.render(locale) for e in self.errors)
            body["errors"] = [{"path": e.path,
                               "reason": gettext(e.reason, locale, **dict(e.params))}
                              for e in self.errors]
        return body


@dataclass(frozen=True, slots=True)
class _Cause:
    """What caused a handler run: an event or a job, in one organization."""

    org_id: int
    platform: str
    id: str  # the event id or the job id: an action's `caused_by`
    ref: str  # how logs and failure records name it
    skip: bool  # record actions without delivering them (imported history)


_REFRESHED = "settings_refreshed"  # scratch key: organizations whose settings were re-read


@dataclass
class _Batch:
    """State of one unit of work."""

    uow: UnitOfWork
    org_id: int
    ids: IdentityBatch
    outbox: Outbox = field(default_factory=Outbox)
    records: list[dict[str, Any]] = field(default_factory=list)
    infos: dict[int, GroupInfo] = field(default_factory=dict)

    def group_info(self, group: GroupRow, settings: GroupSettings | None) -> GroupInfo:
        """The group as features see it, built once per batch (a rename rebuilds it)."""
        info = self.infos.get(group.id)
        if info is None or info.name != group.name:
            info = self.infos[group.id] = _group_info(group, settings)
        return info


# The settings scope of events outside any group: no group has this id, so only the
# organization's layer applies.
ORG_ONLY = 0


class Pipeline:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], registry: FeatureRegistry,
                 clock: Clock, capabilities: Callable[[str], frozenset[str]], *,
                 record_only: bool = False) -> None:
        self._sessions = sessions
        self.registry = registry
        self.clock = clock
        self._capabilities = capabilities
        # Replay: actions are recorded but never delivered; the clock follows event time.
        self.record_only = record_only
        self._settings = SettingsCache(registry)
        self.scheduler = Scheduler()
        self._lock = asyncio.Lock()
        self.on_commit: list[Callable[[], None]] = []

    # --- entry points -------------------------------------------------------------------

    async def ingest(self, org_id: int, items: Sequence[Any]) -> list[IngestResult]:
        """Validate raw events, process the valid ones in one unit of work, answer per event."""
        results: list[IngestResult | None] = [None] * len(items)
        events: list[Event] = []
        positions: list[int] = []
        for index, raw in enumerate(items):
            try:
                events.append(parse_event(raw))
                positions.append(index)
            except InvalidInput as exc:
                raw_id = raw.get("id") if isinstance(raw, dict) else None
                errors = tuple(exc.errors) or (FieldError("", exc.message),)
                results[index] = IngestResult(index, raw_id if isinstance(raw_id, str) else None,
                                              REJECTED, errors)
        statuses = await self.process(org_id, events) if events else []
        for index, event, status in zip(positions, events, statuses, strict=True):
            results[index] = IngestResult(index, event.id, status)
        return [r for r in results if r is not None]

    async def process(self, org_id: int, events: Sequence[Event]) -> list[str]:
        """Process validated events in order, in one transaction; statuses per event."""
        async with self._lock, self._sessions() as session:
            uow = UnitOfWork(session)
            try:
                statuses = await self._process(uow, org_id, events)
                await uow.commit()
            except BaseException:
                await uow.rollback()
                self.scheduler.rolled_back()
                raise
        self._notify()
        return statuses

    async def tick(self, now: datetime | None = None) -> int:
        """Fire every job due by `now` (default: the clock). Returns how many fired."""
        until = now or self.clock.now()
        if self.scheduler.nothing_due_by(until):
            return 0
        async with self._lock, self._sessions() as session:
            uow = UnitOfWork(session)
            try:
                outbox = Outbox()
                fired = await self._fire_due(uow, outbox, until)
                await self.scheduler.write_queued(session)
                await self.scheduler.write_fired(session)
                await outbox.write(session)
                await uow.commit()
            except BaseException:
                await uow.rollback()
                self.scheduler.rolled_back()
                raise
        if fired:
            self._notify()
        return fired

    def _notify(self) -> None:
        for callback in self.on_commit:
            callback()

    # --- the unit of work ----------------------------------------------------------------

    async def _process(self, uow: UnitOfWork, org_id: int, events: Sequence[Event]) -> list[str]:
        session = uow.session
        fresh = await self._dedupe(session, org_id, events)
        ids = IdentityBatch(session, org_id)
        await ids.preload(*platform_keys(e for e, new in zip(events, fresh, strict=True) if new))
        await self._settings.refresh(session, org_id)
        uow.scratch(_REFRESHED, set[int]).add(org_id)
        batch = _Batch(uow, org_id, ids)
        for event, new in zip(events, fresh, strict=True):
            if new:
                await self._handle(batch, event)
        await bulk_insert(session, EventRecord, batch.records)
        await self.scheduler.write_queued(session)
        await self.scheduler.write_fired(session)
        await ids.flush_activity()
        await batch.outbox.write(session)
        return [ACCEPTED if new else DUPLICATE for new in fresh]

    async def _dedupe(self, session: AsyncSession, org_id: int,
                      events: Sequence[Event]) -> list[bool]:
        """Which events are new: not in the log and not earlier in this batch."""
        by_platform: dict[str, set[str]] = {}
        for e in events:
            by_platform.setdefault(e.platform, set()).add(e.id)
        known: set[tuple[str, str]] = set()
        for platform, ids in sorted(by_platform.items()):
            for chunk in _chunks(sorted(ids), 1000):
                rows = await session.scalars(
                    select(EventRecord.external_id)
                    .where(EventRecord.org_id == org_id, EventRecord.platform == platform,
                           among(session, EventRecord.external_id, values=chunk)))
                known.update((platform, i) for i in rows)
        fresh: list[bool] = []
        for event in events:
            key = (event.platform, event.id)
            fresh.append(key not in known)
            known.add(key)
        return fresh

    async def _handle(self, batch: _Batch, event: Event) -> None:
        if isinstance(self.clock, ManualClock) and self.record_only:
            self.clock.set(event.at)
        if not self.scheduler.nothing_due_by(event.at):
            await self._fire_due(batch.uow, batch.outbox, event.at, batch.ids)
        group = await resolve_group(batch.ids, event)
        member = await resolve_member(batch.ids, event, group)
        batch.records.append({
            "org_id": batch.org_id, "platform": event.platform, "external_id": event.id,
            "type": event.type, "group_id": group.id if group else None,
            "person_id": member.person_id if member else None, "at": event.at,
            "imported": event.imported, "message_ref": message_ref(event.type, event.data),
            "body": orjson.dumps(event.to_json()).decode()})
        settings = self._group_settings(group, batch.org_id)
        info = batch.group_info(group, settings) if group else None
        cause = _Cause(batch.org_id, event.platform, event.id, f"{event.platform}:{event.id}",
                       skip=event.imported)
        all_settings = settings.features
        find = message_finder(batch.uow.session, batch.records, len(batch.records) - 1,
                              group.id if group else None)
        # One context for the event, handed to each feature in turn with that feature's
        # settings and empty requests (handlers never keep it). The member carries over: a
        # feature may give the member a number (the gate).
        ctx = FeatureContext(uow=batch.uow, clock=self.clock, now=event.at, group=info,
                             member=member, settings=None, event=event,
                             group_settings=all_settings, find_message=find,
                             registry=self.registry)
        for feature in self.registry.for_event(event.type):
            feature_settings = all_settings[feature.name]
            if not feature_settings.enabled and not (group is None and feature.outside_groups):
                continue
            ctx.settings = feature_settings
            if ctx.actions or ctx.schedules:
                ctx.actions, ctx.schedules = [], []
            if await self._run(batch.uow, feature, feature.handle, ctx, cause) \
                    and (ctx.actions or ctx.schedules):
                await self._collect(batch.outbox, feature, ctx, cause, group)
            if ctx.stopped:
                break

    def _group_settings(self, group: GroupRow | None, org_id: int) -> GroupSettings:
        """The group's settings; for an event outside any group, the organization's."""
        if group is None:
            return self._settings.for_group(GroupScope(org_id, None, None, ORG_ONLY))
        return self._settings.for_group(GroupScope(org_id, group.community_id,
                                                   group.playbook_id, group.id))

    async def _run(self, uow: UnitOfWork, feature: Feature, handler: Handler,
                   ctx: FeatureContext, cause: _Cause) -> bool:
        """Run one handler, isolated: a failure is logged and recorded, the others go on."""
        try:
            if feature.savepoint:
                async with uow.session.begin_nested():
                    await handler(ctx)
            else:
                await handler(ctx)
            return True
        except Exception as exc:
            log.exception("feature %s failed on %s", feature.name, cause.ref)
            uow.session.add(FeatureFailure(
                org_id=cause.org_id, feature=feature.name,
                event=cause.ref if ctx.event else None, job_id=ctx.job.id if ctx.job else None,
                error="".join(traceback.format_exception_only(exc)).strip()[:2000],
                at=ctx.now))
            return False

    async def _collect(self, outbox: Outbox, feature: Feature, ctx: FeatureContext,
                       cause: _Cause, group: GroupRow | None) -> None:
        """Turn a handler's requests into outbox entries and scheduled jobs."""
        locale = ctx.group.language if ctx.group else "zh_CN"
        platform = cause.platform
        for seq, request in enumerate(ctx.actions):
            request = _answer_privately(request, ctx)
            action = Action(
                id=action_id(f"{cause.org_id}:{platform}:{cause.id}", feature.name, seq),
                type=request.type, platform=platform,
                group=request.group or (group.platform_id if group else None),
                member=request.member, caused_by=cause.id, data=request.data)
            if cause.skip or self.record_only:
                status = SKIPPED
            elif action.type in self._capabilities(platform):
                status = PENDING
            else:
                status = TASK
            outbox.add(OutboxEntry(action, cause.org_id, group.id if group else None,
                                   feature.name, ctx.now, status, locale))
        for job in ctx.schedules:
            self.scheduler.queue(org_id=cause.org_id, group_id=group.id if group else None,
                                 feature=feature.name, request=job, caused_by=cause.ref)

    # --- scheduled jobs ------------------------------------------------------------------

    async def _fire_due(self, uow: UnitOfWork, outbox: Outbox, until: datetime,
                        ids: IdentityBatch | None = None) -> int:
        fired = 0
        while jobs := await self.scheduler.take_due(uow.session, until):
            for org_id, job in jobs:
                await self._fire(uow, outbox, org_id, job, ids)
                fired += 1
        return fired

    async def _job_group(self, uow: UnitOfWork, group_id: int,
                         ids: IdentityBatch | None) -> GroupRow | None:
        """The group of a job: the batch's own copy when it resolved the group (kept current
        by renames and dismissals), else read once per unit of work."""
        known = ids.group_by_id(group_id) if ids is not None else None
        if known is not None:
            return known
        rows: dict[int, GroupRow | None] = uow.scratch("job_groups", dict)
        if group_id not in rows:
            group = await uow.session.get(Group, group_id)
            rows[group_id] = GroupRow(
                group.id, group.org_id, group.community_id, group.platform, group.platform_id,
                group.name, group.purpose, group.status, group.playbook_id) if group else None
        return rows[group_id]

    async def _fire(self, uow: UnitOfWork, outbox: Outbox, org_id: int, job: Job,
                    ids: IdentityBatch | None = None) -> None:
        feature = self.registry.get(job.feature)
        if feature is None or feature.on_job is None:
            log.warning("scheduled job %s names unknown feature %s", job.id, job.feature)
            return
        row = await self._job_group(uow, job.group_id, ids) if job.group_id else None
        refreshed = uow.scratch(_REFRESHED, set[int])
        if org_id not in refreshed:  # settings change only between units of work
            await self._settings.refresh(uow.session, org_id)
            refreshed.add(org_id)
        settings = self._group_settings(row, org_id)
        ctx = FeatureContext(uow=uow, clock=self.clock, now=job.due_at,
                             group=_group_info(row, settings) if row else None,
                             member=None, settings=settings.features[feature.name], job=job,
                             group_settings=settings.features, registry=self.registry)
        cause = _Cause(org_id, row.platform if row else "bridge", job.id, job.id, skip=False)
        if await self._run(uow, feature, feature.on_job, ctx, cause):
            await self._collect(outbox, feature, ctx, cause, row)


def _group_info(group: GroupRow, settings: GroupSettings | None) -> GroupInfo:
    timezone = settings.community.timezone if settings else "Asia/Shanghai"
    language = settings.community.language if settings else "zh_CN"
    return GroupInfo(id=group.id, org_id=group.org_id, community_id=group.community_id,
                     platform=group.platform, platform_id=group.platform_id, name=group.name,
                     purpose=group.purpose, timezone=timezone, language=language,
                     answers=settings.community.answers if settings else "group")


def _answer_privately(request: ActionRequest, ctx: FeatureContext) -> ActionRequest:
    """In a group whose answers go private, a reply to the member's own message becomes a
    private message to them (the text without the quote)."""
    event = ctx.event
    if ctx.group is None or ctx.group.answers != "private" or event is None \
            or request.type != SEND_MESSAGE or event.member is None \
            or not request.data.get("reply_to") \
            or request.data.get("reply_to") != event.data.get("message_id"):
        return request
    return send_private(event.member, str(request.data.get("text", "")))


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


__all__ = ["ACCEPTED", "DUPLICATE", "REJECTED", "IngestResult", "MemberInfo", "Pipeline"]
