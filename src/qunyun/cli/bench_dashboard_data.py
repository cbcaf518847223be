"""A large organization for `qunyun bench dashboard`, written straight into the tables.

Communities, stores, tags, groups, members with their memberships, daily rollups and distinct
speakers for every group and day, and the event log, generated from one seeded random source
and bulk-inserted in chunks (SQLite: executemany without the event indexes, rebuilt afterwards;
PostgreSQL: COPY). Nothing goes through the pipeline: this measures reading, not ingesting.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from qunyun.cli.bench_dashboard_writer import BulkWriter

CHUNK = 50_000
CITIES = ("上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆")
PLATFORMS = ("wecom", "wecom", "qq", "qq", "telegram", "playground")
PURPOSES = ("acquisition", "conversion", "member", "member", "course", "popup", "flash_sale",
            "partner")
TEXTS = ("大家早", "今天有什么活动吗？", "收到", "谢谢分享", "新品什么时候到货", "已下单",
         "周末门店见", "这个优惠券怎么用", "签到", "哈哈哈哈")
Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class Scale:
    groups: int
    members: int
    events: int
    days: int = 30
    seed: int = 7


@dataclass(slots=True)
class Built:
    """What was written, and the ids the benchmark requests pages of."""

    org_id: int
    memberships: int = 0
    speaker_rows: int = 0
    events: int = 0
    busiest_group: int = 0
    sample_store: str = ""
    sample_person: int = 0
    group_members: dict[int, list[int]] = field(default_factory=dict)


def _stores() -> list[str]:
    return [f"{city}{n}号店" for city in CITIES for n in range(1, 6)]


async def build(writer: BulkWriter, org_id: int, scale: Scale, end: date,
                progress: Progress) -> Built:
    rng = random.Random(scale.seed)
    built = Built(org_id, sample_store=_stores()[0])
    start_at = datetime.combine(end - timedelta(days=scale.days - 1), datetime.min.time(), UTC)
    communities = await _communities(writer, org_id, start_at)
    group_ids = await _groups(writer, rng, org_id, scale, communities, start_at)
    progress("groups", len(group_ids))
    await _members(writer, rng, built, scale, group_ids, start_at)
    progress("memberships", built.memberships)
    plan = _message_plan(rng, scale, built.group_members)
    built.busiest_group = max(plan, key=lambda g: sum(plan[g]))
    await _rollups(writer, rng, built, plan, end, scale.days)
    progress("stats_speakers", built.speaker_rows)
    await _events(writer, rng, built, plan, start_at, progress)
    await writer.finish()
    return built


async def _communities(writer: BulkWriter, org_id: int, at: datetime) -> list[int]:
    first = await writer.next_id("communities")
    ids = list(range(first, first + 8))
    await writer.write("communities", ("id", "org_id", "name", "positioning", "value", "rules",
                                       "created_at"),
                       [(i, org_id, f"{city}同城会", "", "", "", at)
                        for i, city in zip(ids, CITIES, strict=False)])
    return ids


async def _groups(writer: BulkWriter, rng: random.Random, org_id: int, scale: Scale,
                  communities: list[int], at: datetime) -> list[int]:
    first_tag = await writer.next_id("tags")
    tags = list(range(first_tag, first_tag + 20))
    await writer.write("tags", ("id", "org_id", "name"),
                       [(t, org_id, f"标签{n}") for n, t in enumerate(tags)])
    first = await writer.next_id("groups")
    ids = list(range(first, first + scale.groups))
    stores = _stores()
    rows = []
    for n, gid in enumerate(ids):
        store = stores[n % len(stores)]
        rows.append((gid, org_id, communities[n % len(communities)], PLATFORMS[n % 6],
                     f"g{gid}", f"{store}·{n:04d}群", PURPOSES[n % len(PURPOSES)], store, 500,
                     "active", "", at))
    await writer.write("groups", ("id", "org_id", "community_id", "platform", "platform_id",
                                  "name", "purpose", "store", "capacity", "status", "notice",
                                  "created_at"), rows)
    await writer.write("group_tags", ("group_id", "tag_id"),
                       [(gid, t) for gid in ids for t in rng.sample(tags, rng.randint(0, 2))])
    return ids


async def _members(writer: BulkWriter, rng: random.Random, built: Built, scale: Scale,
                   group_ids: list[int], start_at: datetime) -> None:
    first = await writer.next_id("persons")
    weights = [rng.uniform(0.3, 1.7) for _ in group_ids]
    persons, accounts, periods = [], [], []
    membership_id = await writer.next_id("memberships")
    for pid in range(first, first + scale.members):
        persons.append((pid, built.org_id, f"成员{pid}", "[]", start_at))
        accounts.append((pid, built.org_id, pid, "wecom", f"u{pid}", f"成员{pid}"))
        for gid in set(rng.choices(group_ids, weights, k=1 if rng.random() < 0.8 else 2)):
            joined = start_at - timedelta(days=60) + timedelta(seconds=rng.randrange(89 * 86400))
            left = rng.random() < 0.1
            periods.append((membership_id, built.org_id, gid, pid, "member",
                            "left" if left else "active", joined,
                            joined + timedelta(days=1) if left else None, False,
                            rng.randrange(200), joined))
            membership_id += 1
            if not left:
                built.group_members.setdefault(gid, []).append(pid)
    await writer.write("persons", ("id", "org_id", "display_name", "interests", "first_seen_at"),
                       persons)
    await writer.write("platform_accounts", ("id", "org_id", "person_id", "platform",
                                             "platform_user_id", "display_name"), accounts)
    await writer.write("memberships", ("id", "org_id", "group_id", "person_id", "role",
                                       "status", "joined_at", "left_at", "seen_before_join",
                                       "message_count", "last_active_at"), periods)
    built.memberships = len(periods)
    built.sample_person = first
    built.group_members = {g: built.group_members.get(g, [first]) for g in group_ids}


def _message_plan(rng: random.Random, scale: Scale,
                  members: dict[int, list[int]]) -> dict[int, list[int]]:
    """Messages per group and day, adding up to the event count. One group in twenty has
    gone quiet for the last days."""
    weights = {g: len(m) * rng.uniform(0.2, 2.0) for g, m in members.items()}
    total = sum(weights.values()) * scale.days
    plan = {}
    for gid, weight in weights.items():
        quiet = rng.random() < 0.05
        plan[gid] = [0 if quiet and day >= scale.days - 5 else
                     int(scale.events * weight * rng.uniform(0.7, 1.3) / total)
                     for day in range(scale.days)]
    return plan


async def _rollups(writer: BulkWriter, rng: random.Random, built: Built,
                   plan: dict[int, list[int]], end: date, days: int) -> None:
    daily: list[tuple[Any, ...]] = []
    speakers: list[tuple[Any, ...]] = []
    for gid, counts in plan.items():
        members = built.group_members[gid]
        for offset, messages in enumerate(counts):
            day = end - timedelta(days=days - 1 - offset)
            chosen = rng.sample(members, min(len(members), max(1, messages // 8))) \
                if messages else []
            daily.append((gid, day, rng.randrange(6), rng.randrange(5), messages, len(chosen),
                          0))
            speakers.extend((gid, day, pid) for pid in chosen)
            if len(speakers) >= CHUNK:
                built.speaker_rows += len(speakers)
                await writer.write("stats_speakers", ("group_id", "day", "person_id"), speakers)
                speakers = []
    built.speaker_rows += len(speakers)
    await writer.write("stats_speakers", ("group_id", "day", "person_id"), speakers)
    await writer.write("stats_daily", ("group_id", "day", "joins", "leaves", "messages",
                                       "speakers", "first_messages"), daily)


def _event_rows(rng: random.Random, built: Built, plan: dict[int, list[int]],
                start_at: datetime) -> Iterator[tuple[Any, ...]]:
    seq = 0
    for offset in range(len(next(iter(plan.values())))):
        day_start = start_at + timedelta(days=offset)
        for gid, counts in plan.items():
            members = built.group_members[gid]
            for second in sorted(rng.randrange(86400) for _ in range(counts[offset])):
                seq += 1
                at = day_start + timedelta(seconds=second)
                pid = rng.choice(members)
                body = (f'{{"v":1,"id":"b{seq}","type":"message.posted","platform":"wecom",'
                        f'"at":"{at.isoformat()}","group":"g{gid}","member":"u{pid}","data":'
                        f'{{"message_id":"m{seq}","kind":"text","text":"{rng.choice(TEXTS)}"}}}}')
                yield (built.org_id, "wecom", f"b{seq}", "message.posted", gid, pid, at, True,
                       body)


async def _events(writer: BulkWriter, rng: random.Random, built: Built,
                  plan: dict[int, list[int]], start_at: datetime, progress: Progress) -> None:
    columns = ("org_id", "platform", "external_id", "type", "group_id", "person_id", "at",
               "imported", "body")
    async with writer.bulk("events"):
        chunk: list[tuple[Any, ...]] = []
        for row in _event_rows(rng, built, plan, start_at):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                await _flush(writer, columns, chunk, built, progress)
                chunk = []
        await _flush(writer, columns, chunk, built, progress)


async def _flush(writer: BulkWriter, columns: Sequence[str], chunk: list[tuple[Any, ...]],
                 built: Built, progress: Progress) -> None:
    await writer.write("events", columns, chunk)
    built.events += len(chunk)
    progress("events", built.events)
