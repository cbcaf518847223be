"""The living demo: a brand, its community, a dozen playground groups and a month of history.

`build_demo` creates organization 示例品牌 (slug `demo`) with a community, playground groups of
every purpose type across four stores, tagged by city and interest; it feeds 30 days of
simulated traffic (`qunyun.app.simulate`) through the real pipeline as history (nothing is
delivered), ending at `now`, so the dashboard's charts are full; then it creates an owner staff
account `demo` with a random password. Running it again on a database that has the demo
changes nothing.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.app.demo_engagement import set_up_engagement
from qunyun.app.demo_moderation import play_governance_day
from qunyun.app.replay import OnProgress, event_lines, replay_into
from qunyun.app.simulate import SimGroup, Simulation, SimulationParams
from qunyun.community.access import Scope
from qunyun.community.models import Organization, Person
from qunyun.community.service import (
    do_create_community,
    do_create_group,
    do_create_organization,
)
from qunyun.community.staff_service import cli_principal, do_create_staff
from qunyun.core.config import Config

DEMO_SLUG = "demo"
DEMO_ORG_NAME = "示例品牌"
DEMO_USERNAME = "demo"
TIMEZONE = "Asia/Shanghai"
PLATFORM = "playground"
COMMUNITY = {
    "name": "示例品牌会员社群",
    "positioning": "城市生活方式品牌的会员社群：新品抢先试、门店活动、同城好友。",
    "value": "会员专享价与试用名额；每周主题分享；同城线下活动；积分兑换好礼。",
    "rules": "1. 友善交流，不发广告和外链；2. 不刷屏，每天签到一次；"
             "3. 违规先提醒，再禁言，屡犯移出群聊。",
}
# (store, city tag); groups go round the stores.
STORES = (("北京朝阳店", "北京"), ("上海静安店", "上海"), ("广州天河店", "广州"),
          ("线上旗舰店", "线上"))
INTERESTS = ("咖啡", "健身", "亲子", "美妆", "户外", "读书")
PURPOSE_NAMES = {"acquisition": "获客群", "conversion": "转化群", "member": "会员群",
                 "course": "课程群", "popup": "快闪群", "flash_sale": "秒杀群",
                 "partner": "合伙人群"}
PRE_HISTORY_DAYS = 120  # members who were in a group before the 30 days joined within this
GENDERS = ("female", "female", "female", "male", "male")
AGE_BANDS = ("18-24", "25-34", "25-34", "35-44", "45-54")


@dataclass(frozen=True, slots=True)
class DemoParams:
    seed: int = 7
    groups: int = 14
    members: int = 2000
    days: int = 30


@dataclass(frozen=True, slots=True)
class DemoResult:
    created: bool  # False: the demo was there already, nothing changed
    org_id: int
    username: str = DEMO_USERNAME
    password: str | None = None  # shown once, when created
    groups: int = 0
    events: int = 0
    persons: int = 0


@dataclass(frozen=True, slots=True)
class DemoGroup:
    sim: SimGroup
    name: str
    store: str
    tags: tuple[str, str]


@dataclass(frozen=True, slots=True)
class DatabaseState:
    organizations: int  # 0: an empty database
    demo_org_id: int | None  # the demo's organization, if it is there


async def database_state(config: Config) -> DatabaseState:
    runtime = await build_runtime(config)
    try:
        async with runtime.sessions() as session:
            count = await session.scalar(select(func.count(Organization.id)))
            demo = await session.scalar(select(Organization.id)
                                        .where(Organization.slug == DEMO_SLUG))
        return DatabaseState(int(count or 0), demo)
    finally:
        await runtime.close()


def expected_events(params: DemoParams) -> int:
    """About how many events the demo feeds (for a progress bar)."""
    return round(params.members * SimulationParams().messages_per_member_day * params.days
                 + params.members * 1.6)


async def build_demo(config: Config, params: DemoParams, *, now: datetime,
                     on_progress: OnProgress | None = None) -> DemoResult:
    """Create the demo in the configured database (migrated first), history ending at `now`."""
    runtime = await build_runtime(config, replay=True)
    try:
        async with runtime.sessions() as session:
            org_id = await session.scalar(select(Organization.id)
                                          .where(Organization.slug == DEMO_SLUG))
        if org_id is not None:
            return DemoResult(created=False, org_id=org_id)
        return await _build(runtime, params, now, on_progress)
    finally:
        await runtime.close()


async def _build(runtime: Runtime, params: DemoParams, now: datetime,
                 on_progress: OnProgress | None) -> DemoResult:
    sim_params = simulation_params(params, now)
    simulation = Simulation(sim_params)
    groups = demo_groups(simulation.groups)
    start = _start_of(sim_params)
    org_id = await _create_structure(runtime, groups, start, now)
    lines = event_lines(history(simulation, groups, start, now, params.seed))
    summary = await replay_into(runtime, org_id, lines, on_progress=on_progress)
    scene = await play_governance_day(runtime, org_id=org_id, platform=PLATFORM, now=now)
    persons = await _fill_profiles(runtime, org_id, params.seed)
    password = await _create_owner(runtime, org_id, now)
    return DemoResult(created=True, org_id=org_id, password=password, groups=len(groups),
                      events=summary.accepted + scene, persons=persons)


def simulation_params(params: DemoParams, now: datetime) -> SimulationParams:
    """Days of traffic whose last day is today (local); events after `now` are left out."""
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    return SimulationParams(seed=params.seed, groups=params.groups, members=params.members,
                            days=params.days, start=today - timedelta(days=params.days - 1),
                            platform=PLATFORM, timezone=TIMEZONE)


def _start_of(params: SimulationParams) -> datetime:
    return datetime.combine(params.start, datetime.min.time(), ZoneInfo(params.timezone))


def demo_groups(simulated: list[SimGroup]) -> list[DemoGroup]:
    """Names, stores and tags for the simulated groups: stores in turn, numbered per purpose."""
    seen: dict[tuple[str, str], int] = {}
    groups = []
    for index, sim in enumerate(simulated):
        store, city = STORES[index % len(STORES)]
        label = PURPOSE_NAMES.get(sim.purpose, "交流群")
        seen[(store, label)] = seen.get((store, label), 0) + 1
        number = seen[(store, label)]
        name = f"{store}·{label}" + (str(number) if number > 1 else "")
        groups.append(DemoGroup(sim, name, store, (city, INTERESTS[index % len(INTERESTS)])))
    return groups


async def _create_structure(runtime: Runtime, groups: list[DemoGroup], start: datetime,
                            now: datetime) -> int:
    founded = start - timedelta(days=PRE_HISTORY_DAYS + 30)
    async with runtime.sessions() as session:
        org = await do_create_organization(session, name=DEMO_ORG_NAME, slug=DEMO_SLUG,
                                           at=founded, timezone=TIMEZONE)
        community = await do_create_community(session, org_id=org.id, at=founded, **COMMUNITY)
        await set_up_engagement(session, runtime.registry, org_id=org.id,
                                community_id=community.id, at=founded)
        for group in groups:
            created = founded if group.sim.created_at is None else \
                datetime.fromtimestamp(group.sim.created_at, start.tzinfo)
            await do_create_group(session, org_id=org.id, platform=PLATFORM,
                                  platform_id=group.sim.platform_id, name=group.name,
                                  at=created, community_id=community.id,
                                  purpose=group.sim.purpose, store=group.store, capacity=500,
                                  tags=list(group.tags))
        await session.commit()
        return org.id


def history(simulation: Simulation, groups: list[DemoGroup], start: datetime, now: datetime,
            seed: int) -> Iterator[dict[str, Any]]:
    """The members who were inside before the period (imported joins), then the simulated
    traffic up to `now`, with the demo's group names."""
    yield from _earlier_joins(simulation, start, seed)
    names = {g.sim.platform_id: g.name for g in groups}
    for event in simulation.events():
        if datetime.fromisoformat(event["at"]) > now:
            continue  # the simulation runs to the end of today; the demo ends now
        if event["type"] in ("group.created", "group.updated"):
            event["data"]["name"] = names[event["group"]]
        yield event


def _earlier_joins(simulation: Simulation, start: datetime,
                   seed: int) -> list[dict[str, Any]]:
    """Joins, before the period, of everyone the simulation puts inside a group at its start
    (it never says when they joined); read before the simulation runs."""
    rng = random.Random(seed)
    span = int(timedelta(days=PRE_HISTORY_DAYS).total_seconds())
    joins = []
    for room, group in zip(simulation.rooms, simulation.groups, strict=True):
        for member in room.inside:
            at = start - timedelta(seconds=rng.randrange(3600, span))
            joins.append((at, group.platform_id, member))
    joins.sort()
    return [{"v": 1, "id": f"demo-pre-{n}", "type": "member.joined", "platform": PLATFORM,
             "group": group, "member": simulation.user_ids[member], "at": at.isoformat(),
             "imported": True, "data": {"name": simulation.names[member], "via": "other"}}
            for n, (at, group, member) in enumerate(joins, start=1)]


async def _fill_profiles(runtime: Runtime, org_id: int, seed: int) -> int:
    """City, gender, age band and interests for every person (the simulation has no profiles)."""
    rng = random.Random(seed)
    async with runtime.sessions() as session:
        ids = list(await session.scalars(select(Person.id).where(Person.org_id == org_id)
                                         .order_by(Person.id)))
        rows = [{"id": pid, "city": rng.choice(STORES)[1].replace("线上", "深圳"),
                 "gender": rng.choice(GENDERS), "age_band": rng.choice(AGE_BANDS),
                 "interests": rng.sample(INTERESTS, k=rng.randint(1, 3))} for pid in ids]
        if rows:
            await session.execute(update(Person), rows)  # bulk update by primary key
        await session.commit()
    return len(ids)


async def _create_owner(runtime: Runtime, org_id: int, now: datetime) -> str:
    password = secrets.token_urlsafe(9)
    async with runtime.sessions() as session:
        await do_create_staff(session, principal=cli_principal(org_id), username=DEMO_USERNAME,
                              password=password, role="owner", scope=Scope(), at=now,
                              display_name="示例品牌总部")
        await session.commit()
    return password

