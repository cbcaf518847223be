"""The dry run of a moderation rule set on history: what it would have caught, message by message.

The event log of the chosen groups is read in order over the last N days and every posted
message is put to `rules.evaluate` — the function the live handler calls — with the facts the
live handler would have had: the author's role (as it is now), probation (joins and message
counts seen in the window; members already inside when the window opens are established), the
flood counts (kept in memory the way the live table keeps them) and the organization's
classifier. Each hit gets the ladder step the member's offences in the window earn. Nothing is
written: a rule set is tried before it is saved.
"""

from __future__ import annotations

import tomllib
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group, Membership
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.community.settings import GroupScope
from qunyun.core import events as E
from qunyun.core.config import pydantic_errors
from qunyun.core.errors import InvalidInput, NotFound
from qunyun.core.features import FeatureRegistry
from qunyun.features.moderation.ladder import DELETE, step_for
from qunyun.features.moderation.normalize import normalize
from qunyun.features.moderation.rules import (
    MAX_FLOOD_WINDOW,
    RuleSet,
    compile_rules,
    evaluate,
    fingerprint,
    flood_counts,
    message_facts,
    on_probation,
)
from qunyun.features.moderation.service import load_classifier
from qunyun.features.moderation.settings import FloodRule, ModerationSettings
from qunyun.pipeline.models import EventRecord
from qunyun.pipeline.settings_cache import SettingsCache

FEATURE = "moderation"
PATH = "features.moderation"
PAGE = 2000
MAX_DAYS = 365
MAX_HITS = 5000  # hits listed; the counts cover them all


@dataclass(frozen=True, slots=True)
class DryRunHit:
    event_id: str
    group_id: int
    person_id: int | None
    name: str
    at: datetime
    text: str
    rule: str
    category: str
    matched: str
    start: int
    end: int
    action: str
    score: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "group_id": self.group_id,
                "person_id": self.person_id, "name": self.name, "at": self.at.isoformat(),
                "text": self.text, "rule": self.rule, "category": self.category,
                "matched": self.matched, "start": self.start, "end": self.end,
                "action": self.action, "score": self.score}


@dataclass(slots=True)
class DryRunReport:
    since: datetime
    until: datetime
    groups: list[int]
    messages: int = 0
    hits: list[DryRunHit] = field(default_factory=list)
    by_rule: Counter[str] = field(default_factory=Counter)
    people: set[int] = field(default_factory=set)

    @property
    def caught(self) -> int:
        return sum(self.by_rule.values())

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(),
                "groups": self.groups, "messages": self.messages, "caught": self.caught,
                "members": len(self.people), "by_rule": dict(sorted(self.by_rule.items())),
                "hits": [h.as_dict() for h in self.hits]}


# --- the rule set to try ----------------------------------------------------------------------

def settings_from_values(values: Mapping[str, Any], *, source: str = PATH) -> ModerationSettings:
    """A rule set from a `[features.moderation]` table's values, switched on; InvalidInput with
    each problem's key path."""
    try:
        return ModerationSettings.model_validate({**values, "enabled": True}, strict=True)
    except ValidationError as exc:
        raise InvalidInput("invalid settings in {path}", path=source,
                           errors=pydantic_errors(exc, prefix=PATH)) from exc


def settings_from_toml(text: str, *, source: str = "settings") -> ModerationSettings:
    """A playbook (its `[features.moderation]` table) or the keys at the top level."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("{path} is not valid TOML: {reason}", path=source,
                           reason=str(exc)) from exc
    features = document.get("features")
    table = features.get(FEATURE, {}) if isinstance(features, dict) else document
    if not isinstance(table, dict):
        raise InvalidInput("{path}: [features.moderation] must be a table", path=source)
    values = {k: v for k, v in table.items() if k not in ("version", "name", "community")}
    return settings_from_values(values, source=source)


def settings_from_json(text: str, *, source: str = "settings") -> ModerationSettings:
    try:
        values = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("{path} is not valid JSON: {reason}", path=source,
                           reason=str(exc)) from exc
    if not isinstance(values, dict):
        raise InvalidInput("{path} must be a JSON object", path=source)
    return settings_from_values(values, source=source)


async def current_settings(session: AsyncSession, registry: FeatureRegistry, *, org_id: int,
                           group_ids: list[int]) -> dict[int, ModerationSettings]:
    """Each group's effective moderation settings, as the pipeline computes them."""
    cache = SettingsCache(registry)
    await cache.refresh(session, org_id)
    rows = (await session.execute(select(Group.id, Group.community_id, Group.playbook_id)
                                  .where(Group.org_id == org_id, Group.id.in_(group_ids)))).all()
    found = {}
    for group_id, community_id, playbook_id in rows:
        own = cache.for_group(GroupScope(org_id, community_id, playbook_id, group_id)) \
            .features.get(FEATURE)
        found[group_id] = own if isinstance(own, ModerationSettings) else ModerationSettings()
    return found


# --- the run ----------------------------------------------------------------------------------

@dataclass
class _Memory:
    """What the live handler keeps in tables, kept in memory over the history."""

    flood: FloodRule
    recent: dict[int, deque[tuple[datetime, int, str]]] = field(default_factory=dict)
    joined: dict[tuple[int, int], datetime] = field(default_factory=dict)
    counts: Counter[tuple[int, int]] = field(default_factory=Counter)
    offences: dict[int, list[datetime]] = field(default_factory=dict)

    def note(self, person_id: int, group_id: int, at: datetime, mark: str) -> tuple[int, int]:
        kept = self.recent.setdefault(person_id, deque())
        while kept and kept[0][0] < at - MAX_FLOOD_WINDOW:
            kept.popleft()
        kept.append((at, group_id, mark))
        return flood_counts(kept, group_id=group_id, at=at, fingerprint=mark, flood=self.flood)


async def dry_run(session: AsyncSession, *, org_id: int,
                  settings: Mapping[int, ModerationSettings], until: datetime,
                  days: int) -> DryRunReport:
    """Evaluate each group's rule set (`settings`: group id → settings) on its last `days` days
    of posted messages."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("{option} must be from 1 to {limit}", option="days", limit=MAX_DAYS)
    if not settings:
        raise NotFound("no group to try the rules on")
    since = until - timedelta(days=days)
    groups = sorted(settings)
    report = DryRunReport(since, until, groups)
    compiled = {g: compile_rules(s) for g, s in settings.items()}
    memory = {g: _Memory(s.flood) for g, s in settings.items()}
    roles = await _roles(session, groups)
    classifier = await load_classifier(session, org_id) \
        if any(s.classifier.enabled for s in settings.values()) else None
    names: dict[int, str] = {}
    after = 0
    while True:
        rows = (await session.execute(
            select(EventRecord.seq, EventRecord.type, EventRecord.platform,
                   EventRecord.external_id, EventRecord.group_id, EventRecord.person_id,
                   EventRecord.at, EventRecord.body)
            .where(EventRecord.org_id == org_id, EventRecord.seq > after,
                   EventRecord.group_id.in_(groups), EventRecord.at > since,
                   EventRecord.at <= until, EventRecord.imported.is_(False),
                   EventRecord.type.in_((E.MESSAGE_POSTED, E.MEMBER_JOINED)))
            .order_by(EventRecord.seq).limit(PAGE))).all()
        if not rows:
            break
        for row in rows:
            if row.person_id is None or row.group_id is None:
                continue
            _step(report, row, compiled[row.group_id], memory[row.group_id], roles, names,
                  classifier)
        after = rows[-1].seq
    return report


def _step(report: DryRunReport, row: Any, rules: RuleSet, memory: _Memory,
          roles: Mapping[tuple[int, int], str], names: dict[int, str], classifier: Any) -> None:
    key = (row.group_id, row.person_id)
    if row.type == E.MEMBER_JOINED:
        memory.joined[key] = row.at
        memory.counts[key] = 0
        return
    body = orjson.loads(row.body)
    data = body.get("data", {})
    names[row.person_id] = str(data.get("name") or names.get(row.person_id) or
                               body.get("member") or "")
    report.messages += 1
    before = memory.counts[key]
    memory.counts[key] += 1
    settings = rules.settings
    role = roles.get(key, "member")
    if role in rules.exempt:
        return
    normalized = normalize(str(data.get("text") or ""))
    newcomer = on_probation(messages_before=before, joined_at=memory.joined.get(key),
                            now=row.at, settings=settings,
                            known_before=key not in memory.joined)
    recent, groups = memory.note(row.person_id, row.group_id, row.at,
                                 fingerprint(normalized, settings.flood.min_chars)) \
        if settings.flood.enabled else (1, 1)
    facts = message_facts(normalized, data, role=role, newcomer=newcomer,
                          recent_messages=recent, same_text_groups=groups)
    finding = evaluate(rules, facts, classifier=classifier)
    if finding is None:
        return
    offences = memory.offences.setdefault(row.person_id, [])
    since = rules.counts_since(row.at)
    step = step_for(rules.ladder, sum(1 for at in offences if since is None or at >= since))
    offences.append(row.at)
    report.by_rule[finding.rule] += 1
    report.people.add(row.person_id)
    if len(report.hits) < MAX_HITS:
        report.hits.append(DryRunHit(
            f"{row.platform}:{row.external_id}", row.group_id, row.person_id,
            names[row.person_id], row.at, normalized.original, finding.rule, finding.category,
            finding.matched, finding.start, finding.end,
            DELETE if step.kind == DELETE else f"{DELETE}+{step}", finding.score))


async def _roles(session: AsyncSession, groups: list[int]) -> dict[tuple[int, int], str]:
    rows = await session.execute(
        select(Membership.group_id, Membership.person_id, Membership.role)
        .where(Membership.group_id.in_(groups), Membership.status == MEMBERSHIP_ACTIVE))
    return {(g, p): role for g, p, role in rows}


async def find_groups(session: AsyncSession, *, org_id: int, refs: list[str]) -> list[int]:
    """Group ids from numbers or `platform:group id`; NotFound naming the first unknown one."""
    found = []
    for ref in refs:
        if ref.isdigit():
            query = select(Group.id).where(Group.org_id == org_id, Group.id == int(ref))
        else:
            platform, _, platform_id = ref.rpartition(":")
            query = select(Group.id).where(Group.org_id == org_id,
                                           Group.platform_id == platform_id)
            if platform:
                query = query.where(Group.platform == platform)
        group_id = await session.scalar(query.limit(1))
        if group_id is None:
            raise NotFound("no such group: {group}", group=ref)
        found.append(int(group_id))
    return found

