"""Replay: a JSON Lines file of bridge-protocol events through the pipeline, as history.

The file is streamed line by line and processed in batches, one unit of work each, on a runtime
built with `replay=True`: the clock follows event time and actions are recorded as `skipped`,
never delivered. A batch commits whole and events already in the log are duplicates, so a replay
stopped anywhere (even by SIGKILL) and run again processes every event exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from qunyun.app.bootstrap import DEFAULT_ORG_SLUG, Runtime, build_runtime, ensure_default_org
from qunyun.app.models import metadata
from qunyun.community.identity import IdentityBatch
from qunyun.community.models import Group, Membership, PlatformAccount
from qunyun.community.service import get_organization_by_slug
from qunyun.core.clock import SystemClock
from qunyun.core.config import Config
from qunyun.core.errors import FieldError, InvalidInput, NotFound
from qunyun.core.events import Event, parse_event
from qunyun.core.features import FeatureRegistry
from qunyun.core.i18n import N_
from qunyun.db.uow import UnitOfWork, run_in_transaction
from qunyun.features.stats.models import DailyStats
from qunyun.pipeline.delivery import to_action
from qunyun.pipeline.models import ActionRecord, EventRecord, ScheduledJob
from qunyun.pipeline.playbook import do_apply_playbook, parse_playbook
from qunyun.pipeline.runner import ACCEPTED, DUPLICATE

DEFAULT_BATCH_SIZE = 1000
MAX_PROBLEMS = 20  # rejected lines kept with their reasons; the rest are only counted
OnProgress = Callable[[int], None]  # called with how much was done since the last call
# (line number, size in bytes, the event or the reasons it was rejected; () for a blank line)
Line = tuple[int, int, Event | tuple[FieldError, ...]]


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    reasons: tuple[FieldError, ...]

    def render(self, locale: str) -> str:
        return "; ".join(reason.render(locale) for reason in self.reasons)


@dataclass(slots=True)
class ReplaySummary:
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    problems: list[RejectedLine] = field(default_factory=list)  # the first MAX_PROBLEMS
    last_at: datetime | None = None
    jobs_fired: int = 0  # by the final tick; jobs due between events fire as events pass
    actions_written: int | None = None  # None: no actions file asked for
    elapsed_s: float = 0.0

    @property
    def events(self) -> int:
        return self.accepted + self.duplicate + self.rejected

    @property
    def events_per_s(self) -> float:
        return self.events / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def reject(self, line: int, reasons: tuple[FieldError, ...]) -> None:
        self.rejected += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(RejectedLine(line, reasons))

    def as_dict(self, locale: str) -> dict[str, Any]:
        return {
            "accepted": self.accepted, "duplicate": self.duplicate, "rejected": self.rejected,
            "problems": [{"line": p.line, "reason": p.render(locale)} for p in self.problems],
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "jobs_fired": self.jobs_fired, "actions_written": self.actions_written,
            "elapsed_s": round(self.elapsed_s, 3), "events_per_s": round(self.events_per_s, 1),
        }


async def replay(config: Config, path: Path, *, org: str = DEFAULT_ORG_SLUG,
                 registry: FeatureRegistry | None = None, playbook: Path | None = None,
                 actions_out: Path | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                 on_progress: OnProgress | None = None) -> ReplaySummary:
    """Replay `path` into the configured database (migrated first) for organization `org`."""
    check_input(path, batch_size, playbook)
    runtime = await build_runtime(config, replay=True, registry=registry)
    try:
        org_id = await organization_id(runtime, org)
        if playbook is not None:
            await apply_playbook(runtime, org_id, playbook, path)
        return await replay_into(runtime, org_id, read_lines(path), batch_size=batch_size,
                                 actions_out=actions_out, on_progress=on_progress)
    finally:
        await runtime.close()


def check_input(path: Path, batch_size: int, playbook: Path | None = None) -> None:
    for file in (path, playbook):
        if file is not None and not file.is_file():
            raise NotFound("no such file: {path}", path=str(file))
    if batch_size < 1:
        raise InvalidInput("{option} must be a positive integer", option="batch-size")


async def organization_id(runtime: Runtime, slug: str) -> int:
    """The organization replayed into; the default one is created on first use."""
    if slug == DEFAULT_ORG_SLUG:
        return await ensure_default_org(runtime.sessions, SystemClock().now())
    async with runtime.sessions() as session:
        return (await get_organization_by_slug(session, slug)).id


async def apply_playbook(runtime: Runtime, org_id: int, playbook: Path, events: Path) -> None:
    """Apply a playbook to every group the events are in, so the whole history runs under it.

    Groups not known yet are created first, the way the pipeline creates them on first sight.
    The playbook is validated before anything is written.
    """
    text = await asyncio.to_thread(playbook.read_text, encoding="utf-8")
    spec = parse_playbook(text, runtime.registry)
    first_seen = groups_in(events)
    if not first_seen:
        raise InvalidInput("no event in {path} happens in a group: the playbook applies to none",
                           path=str(events))

    async def work(uow: UnitOfWork) -> None:
        ids = IdentityBatch(uow.session, org_id)
        await ids.preload(first_seen, {})
        group_ids = [(await ids.group(platform, group, at)).id
                     for (platform, group), at in first_seen.items()]
        await do_apply_playbook(uow.session, org_id=org_id, spec=spec, source_text=text,
                                group_ids=group_ids, at=min(first_seen.values()))

    await run_in_transaction(runtime.sessions, work)


def groups_in(path: Path) -> dict[tuple[str, str], datetime]:
    """(platform, group id) of every group the file's valid events are in, with the time of the
    group's first event in file order (when the pipeline would create it)."""
    first_seen: dict[tuple[str, str], datetime] = {}
    for _, _, parsed in read_lines(path):
        if isinstance(parsed, Event) and parsed.group is not None:
            first_seen.setdefault((parsed.platform, parsed.group), parsed.at)
    return first_seen


async def replay_into(runtime: Runtime, org_id: int, lines: Iterable[Line], *,
                      batch_size: int = DEFAULT_BATCH_SIZE, actions_out: Path | None = None,
                      on_progress: OnProgress | None = None) -> ReplaySummary:
    """Feed `lines` (see `read_lines`) through `runtime`'s pipeline in batches, then fire the
    jobs due by the last event and write the organization's actions to `actions_out`.
    `on_progress` gets the sizes of the lines done, once per batch."""
    if not runtime.pipeline.record_only:
        raise ValueError("replay needs a runtime built with replay=True")
    started = time.perf_counter()
    summary = ReplaySummary()
    batch: list[Event] = []
    unreported = 0
    for number, size, parsed in lines:
        unreported += size
        if isinstance(parsed, Event):
            batch.append(parsed)
        elif parsed:
            summary.reject(number, parsed)
        if len(batch) >= batch_size:
            await _process(runtime, org_id, batch, summary)
            batch = []
            if on_progress is not None:
                on_progress(unreported)
                unreported = 0
    if batch:
        await _process(runtime, org_id, batch, summary)
    if on_progress is not None:
        on_progress(unreported)
    if summary.last_at is not None:
        summary.jobs_fired = await runtime.pipeline.tick(summary.last_at)
    if actions_out is not None:
        summary.actions_written = await write_actions(runtime.sessions, org_id, actions_out)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def event_lines(events: Iterable[dict[str, Any]]) -> Iterator[Line]:
    """Lines for events made in code (the demo): each validated, numbered from 1."""
    for number, raw in enumerate(events, start=1):
        yield number, 1, parse_event(raw)


def read_lines(path: Path) -> Iterator[Line]:
    """(line number, bytes, the event or why it was rejected) per line; blank lines give ()."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            yield number, len(line), parse_line(line) if line.strip() else ()


def parse_line(line: bytes) -> Event | tuple[FieldError, ...]:
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return (FieldError("", N_("not valid JSON: {reason}"), (("reason", str(exc)),)),)
    try:
        return parse_event(raw)
    except InvalidInput as exc:
        return tuple(exc.errors) or (
            FieldError("", exc.message, tuple(sorted(exc.params.items()))),)


async def _process(runtime: Runtime, org_id: int, batch: list[Event],
                   summary: ReplaySummary) -> None:
    statuses = await runtime.pipeline.process(org_id, batch)
    summary.accepted += statuses.count(ACCEPTED)
    summary.duplicate += statuses.count(DUPLICATE)
    latest = max(event.at for event in batch)
    if summary.last_at is None or latest > summary.last_at:
        summary.last_at = latest


async def write_actions(sessions: async_sessionmaker[AsyncSession], org_id: int, path: Path,
                        page: int = 1000) -> int:
    """Every action of the organization's outbox, by `seq`, as JSON Lines with sorted keys (so
    two replays of one file write the same bytes). Read a page at a time: memory stays flat."""
    written, after = 0, 0
    with path.open("wb") as out:
        while True:
            async with sessions() as session:
                rows = (await session.scalars(
                    select(ActionRecord)
                    .where(ActionRecord.org_id == org_id, ActionRecord.seq > after)
                    .order_by(ActionRecord.seq).limit(page))).all()
            for row in rows:
                out.write(orjson.dumps(to_action(row).to_json(), option=orjson.OPT_SORT_KEYS))
                out.write(b"\n")
            written += len(rows)
            if len(rows) < page:
                return written
            after = rows[-1].seq


@dataclass(frozen=True, slots=True)
class ReplayState:
    """What a replay leaves behind, comparable across databases: row counts per table, and
    digests of the event log, outbox, scheduled jobs, stats rollups and memberships, each keyed
    by platform ids and read in a stable order (database ids are left out)."""

    counts: dict[str, int]
    digests: dict[str, str]

    def differences(self, other: ReplayState) -> list[str]:
        """What differs: `rows:<table>` for a row count, else the digest's name."""
        rows = [f"rows:{name}" for name in sorted(self.counts.keys() | other.counts.keys())
                if self.counts.get(name) != other.counts.get(name)]
        return rows + [name for name in self.digests
                       if self.digests[name] != other.digests.get(name)]


async def replay_state(sessions: async_sessionmaker[AsyncSession], org_id: int) -> ReplayState:
    async with sessions() as session:
        counts = {table.name: int(await session.scalar(
                      select(func.count()).select_from(table)) or 0)
                  for table in metadata().sorted_tables}
        digests = {name: await _digest(session, query)
                   for name, query in _state_queries(org_id).items()}
    return ReplayState(counts, digests)


def _state_queries(org_id: int) -> dict[str, Select[Any]]:
    g, m, a = Group, Membership, ActionRecord
    account, inviter = aliased(PlatformAccount), aliased(PlatformAccount)
    return {
        "events": select(EventRecord.platform, EventRecord.external_id, EventRecord.at,
                         EventRecord.body)
        .where(EventRecord.org_id == org_id).order_by(EventRecord.seq),
        "actions": select(a.id, a.type, a.platform, a.group_pid, a.member_pid, a.data,
                          a.caused_by, a.feature, a.status, a.created_at)
        .where(a.org_id == org_id).order_by(a.seq),
        "jobs": select(ScheduledJob.id, ScheduledJob.kind, ScheduledJob.due_at,
                       ScheduledJob.payload, ScheduledJob.status, ScheduledJob.fired_at)
        .where(ScheduledJob.org_id == org_id).order_by(ScheduledJob.id),
        "rollups": select(g.platform, g.platform_id, DailyStats.day, DailyStats.joins,
                          DailyStats.leaves, DailyStats.messages, DailyStats.speakers,
                          DailyStats.first_messages)
        .join(g, g.id == DailyStats.group_id).where(g.org_id == org_id)
        .order_by(g.platform, g.platform_id, DailyStats.day),
        "memberships": select(g.platform_id, account.platform_user_id, m.status, m.role,
                              m.joined_at, m.left_at, m.left_reason, m.join_via, m.join_code,
                              inviter.platform_user_id, m.seen_before_join, m.message_count,
                              m.first_message_at, m.last_active_at)
        .join(g, g.id == m.group_id).join(account, account.person_id == m.person_id)
        .outerjoin(inviter, inviter.person_id == m.inviter_person_id)
        .where(m.org_id == org_id)
        .order_by(g.platform, g.platform_id, account.platform_user_id, m.id),
    }


async def _digest(session: AsyncSession, query: Select[Any]) -> str:
    digest = hashlib.sha256()
    result = await session.stream(query.execution_options(yield_per=1000))
    async for row in result:
        digest.update(orjson.dumps(tuple(row), option=orjson.OPT_SORT_KEYS, default=str))
        digest.update(b"\n")
    return digest.hexdigest()
