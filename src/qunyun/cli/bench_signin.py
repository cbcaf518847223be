"""`qunyun bench signin-burst`: a morning sign-in burst through the real pipeline, verified.

A fresh database gets one community with N groups and M members (bulk-inserted, one group
each). Then, for each day asked for, every member sends a sign-in keyword, all within one
minute of event time, interleaved across the groups, fed through the bridge's ingest in
batches (one unit of work each). Afterwards the state is checked: everyone signed once a day,
the ranks of each group and day are 1..k in the order the messages came, streaks count the
days, balances equal the points and bonuses due, one reply per sign-in, no handler failed.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.cli.bench import backend, fresh_database, show
from qunyun.cli.bench_dashboard_writer import open_writer
from qunyun.cli.common import JsonOption, run
from qunyun.community.models import Community
from qunyun.core.clock import day_start
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry
from qunyun.core.i18n import gettext
from qunyun.features.signin.models import SigninDaily, SigninRecord
from qunyun.features.signin.settings import SigninSettings
from qunyun.pipeline.models import ActionRecord, FeatureFailure
from qunyun.points.models import PointsBalance, PointsEntry

SEED = 11
TIMEZONE = "Asia/Shanghai"
FIRST_DAY = date(2026, 11, 23)
BURST_START = timedelta(hours=7)  # 07:00 local: the morning rush
BURST_LENGTH = timedelta(minutes=1)
TEXTS = ("签到", "打卡", "/签到", "签到 ", "＃签到", "signin", "/signin")
MAX_PROBLEMS = 10

ServerOption = Annotated[str | None, typer.Option(
    "--db", "--database-url", help="A PostgreSQL URL: the benchmark creates and drops a "
                                   "database there. Default: SQLite in a temporary directory.")]


@dataclass(slots=True)
class World:
    """What was set up: the groups and, per member, the platform ids to sign in with."""

    org_id: int
    community_id: int
    groups: list[str] = field(default_factory=list)  # platform ids
    members: list[tuple[str, str]] = field(default_factory=list)  # (group, member) ids


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("signin-burst")(bench_signin_burst)


def bench_signin_burst(
    groups: Annotated[int, typer.Option(help="Groups.", min=1)] = 1000,
    signins: Annotated[int, typer.Option(help="Sign-ins per day: one per member.", min=1)]
    = 10_000,
    days: Annotated[int, typer.Option(help="Mornings in a row (streaks need two).", min=1)] = 2,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Events per transaction.",
                                            min=1)] = 1000,
    db: ServerOption = None, as_json: JsonOption = False,
) -> None:
    """N sign-ins within one minute across many groups; verifies ranks, streaks, balances."""
    figures = run(lambda: measure_signin_burst(groups, signins, days, batch_size, db))
    show(gettext("Sign-in burst benchmark"), figures, as_json)
    if not figures["verified"]:
        raise typer.Exit(1)


async def measure_signin_burst(groups: int, signins: int, days: int, batch_size: int,
                               server: str | None,
                               registry: FeatureRegistry | None = None) -> dict[str, Any]:
    groups = min(groups, signins)  # every group gets at least one member
    figures: dict[str, Any] = {"benchmark": "signin-burst", "backend": backend(server),
                               "groups": groups, "signins_per_day": signins, "days": days,
                               "batch_size": batch_size}
    with tempfile.TemporaryDirectory(prefix="qunyun-bench-") as workdir:
        async with fresh_database(server, Path(workdir)) as url:
            runtime = await build_runtime(Config(data_dir=Path(workdir), database_url=url),
                                          replay=True, registry=registry)
            try:
                began = time.perf_counter()
                world = await _populate(runtime, url, groups, signins)
                figures["setup_s"] = round(time.perf_counter() - began, 2)
                for day in range(days):
                    elapsed = await _feed(runtime, world.org_id, _burst(world, day),
                                          batch_size)
                    figures[f"day{day + 1}_s"] = round(elapsed, 3)
                    figures[f"day{day + 1}_events_per_s"] = round(signins / elapsed, 1)
                problems = await _verify(runtime, world, days)
            finally:
                await runtime.close()
    figures["verified"] = not problems
    figures["problems"] = problems[:MAX_PROBLEMS]
    # On a busy machine wall-clock figures say as much about the neighbours as about qunyun.
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    return figures


async def _populate(runtime: Runtime, url: str, groups: int, members: int) -> World:
    """One community, `groups` groups, `members` persons each in one group (round robin)."""
    at = day_start(FIRST_DAY - timedelta(days=30), TIMEZONE)
    org_id = await ensure_default_org(runtime.sessions, at)
    async with runtime.sessions() as session:
        community_id = await session.scalar(select(Community.id).where(
            Community.org_id == org_id).order_by(Community.id).limit(1))
    assert community_id is not None
    world = World(org_id, community_id)
    writer = await open_writer(url)
    try:
        first_group = await writer.next_id("groups")
        group_ids = list(range(first_group, first_group + groups))
        world.groups = [f"g{gid}" for gid in group_ids]
        await writer.write("groups", ("id", "org_id", "community_id", "platform", "platform_id",
                                      "name", "purpose", "capacity", "status", "notice",
                                      "created_at"),
                           [(gid, org_id, community_id, "bridge", f"g{gid}", f"签到群{n:04d}",
                             "member", 500, "active", "", at)
                            for n, gid in enumerate(group_ids)])
        first_person = await writer.next_id("persons")
        first_membership = await writer.next_id("memberships")
        persons, accounts, periods = [], [], []
        for n in range(members):
            pid, gid = first_person + n, group_ids[n % groups]
            persons.append((pid, org_id, f"成员{n}", "[]", at))
            accounts.append((pid, org_id, pid, "bridge", f"u{pid}", f"成员{n}"))
            periods.append((first_membership + n, org_id, gid, pid, "member", "active", at,
                            False, 0))
            world.members.append((f"g{gid}", f"u{pid}"))
        await writer.write("persons", ("id", "org_id", "display_name", "interests",
                                       "first_seen_at"), persons)
        await writer.write("platform_accounts", ("id", "org_id", "person_id", "platform",
                                                 "platform_user_id", "display_name"), accounts)
        await writer.write("memberships", ("id", "org_id", "group_id", "person_id", "role",
                                           "status", "joined_at", "seen_before_join",
                                           "message_count"), periods)
        await writer.finish()
    finally:
        await writer.close()
    return world


def _burst(world: World, day: int) -> list[dict[str, Any]]:
    """Every member's sign-in message of morning `day`, in time order within one minute,
    the groups interleaved at random."""
    rng = random.Random(SEED + day)
    order = list(world.members)
    rng.shuffle(order)
    start = day_start(FIRST_DAY + timedelta(days=day), TIMEZONE) + BURST_START
    step = BURST_LENGTH / len(order)
    events = []
    for n, (group, member) in enumerate(order):
        at = start + step * n
        events.append({"v": 1, "id": f"s{day}-{n}", "type": "message.posted",
                       "platform": "bridge", "at": at.astimezone(UTC).isoformat(),
                       "group": group, "member": member,
                       "data": {"message_id": f"m{day}-{n}", "kind": "text",
                                "text": rng.choice(TEXTS)}})
    return events


async def _feed(runtime: Runtime, org_id: int, events: list[dict[str, Any]],
                batch_size: int) -> float:
    """Ingest the events as the bridge does, in batches; the seconds it took."""
    began = time.perf_counter()
    for start in range(0, len(events), batch_size):
        results = await runtime.pipeline.ingest(org_id, events[start:start + batch_size])
        rejected = [r for r in results if r.status != "accepted"]
        if rejected:
            raise RuntimeError(f"events not accepted: {rejected[:3]}")
    return time.perf_counter() - began


async def _verify(runtime: Runtime, world: World, days: int) -> list[str]:
    settings = SigninSettings()
    problems: list[str] = []
    async with runtime.sessions() as session:
        records = (await session.execute(
            select(SigninRecord.day, SigninRecord.group_id, SigninRecord.person_id,
                   SigninRecord.rank, SigninRecord.streak, SigninRecord.at)
            .where(SigninRecord.org_id == world.org_id))).all()
        counters = {(g, d): c for g, d, c in await session.execute(
            select(SigninDaily.group_id, SigninDaily.day, SigninDaily.count))}
        balances = {p: b for p, b in await session.execute(
            select(PointsBalance.person_id, PointsBalance.balance)
            .where(PointsBalance.community_id == world.community_id))}
        ledger_total = await session.scalar(select(func.sum(PointsEntry.amount)))
        replies = await session.scalar(select(func.count()).select_from(ActionRecord)
                                       .where(ActionRecord.feature == "signin"))
        failures = await session.scalar(select(func.count()).select_from(FeatureFailure))
    members = len(world.members)
    by_day: dict[date, list[Any]] = defaultdict(list)
    for record in records:
        by_day[record.day].append(record)
    for n in range(days):
        day = FIRST_DAY + timedelta(days=n)
        problems += _check_day(by_day.get(day, []), counters, day, members, streak=n + 1)
    expected = sum(settings.points + settings.bonus_for(n + 1) for n in range(days))
    wrong = {p: b for p, b in balances.items() if b != expected}
    if len(balances) != members or wrong:
        problems.append(f"balances: {len(balances)} members paid, {len(wrong)} not {expected} "
                        f"(e.g. {list(wrong.items())[:3]})")
    if ledger_total != sum(balances.values()):
        problems.append(f"ledger sums to {ledger_total}, balances to {sum(balances.values())}")
    if replies != members * days:
        problems.append(f"{replies} replies for {members * days} sign-ins")
    if failures:
        problems.append(f"{failures} feature failures")
    return problems


def _check_day(records: list[Any], counters: dict[tuple[int, date], int], day: date,
               members: int, *, streak: int) -> list[str]:
    problems = []
    persons = [r.person_id for r in records]
    if len(persons) != members or len(set(persons)) != members:
        problems.append(f"{day}: {len(set(persons))} of {members} members signed in, "
                        f"{len(persons)} records")
    by_group: dict[int, list[Any]] = defaultdict(list)
    for record in records:
        by_group[record.group_id].append(record)
    for group_id, rows in sorted(by_group.items()):
        ranks = [r.rank for r in sorted(rows, key=lambda r: r.at)]
        if ranks != list(range(1, len(rows) + 1)):
            problems.append(f"{day}: group {group_id} ranks in message order are {ranks}")
        if counters.get((group_id, day)) != len(rows):
            problems.append(f"{day}: group {group_id} counter {counters.get((group_id, day))}, "
                            f"{len(rows)} sign-ins")
    streaks = {r.streak for r in records}
    if records and streaks != {streak}:
        problems.append(f"{day}: streaks {sorted(streaks)[:5]}, expected {streak}")
    return problems
