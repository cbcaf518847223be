"""Fixtures of the sign-in tests: a runtime with `signin` (and `stats`), helpers to talk to it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.community.models import Community, PlatformAccount
from qunyun.community.settings import do_set_layer
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.events import parse_event
from qunyun.core.features import FeatureRegistry
from qunyun.features.signin.models import SigninRecord
from qunyun.features.signin.plugin import FEATURE as SIGNIN
from qunyun.features.stats.plugin import FEATURE as STATS
from qunyun.pipeline.models import ActionRecord
from qunyun.points.service import balance
from tests.conftest import START, _pg_exec, _pg_url

DAY = 24 * 60  # minutes


def signin_registry() -> FeatureRegistry:
    return FeatureRegistry([SIGNIN, STATS])


@pytest.fixture
async def rt(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    runtime = await build_runtime(config, clock=clock, migrate=False, registry=signin_registry())
    yield runtime
    await runtime.close()


@pytest.fixture
async def org(rt: Runtime) -> int:
    return await ensure_default_org(rt.sessions, START)


async def say(rt: Runtime, org: int, *raw: dict[str, Any]) -> list[str]:
    """Process the events in one unit of work; the texts of the replies they caused."""
    await rt.pipeline.process(org, [parse_event(e) for e in raw])
    async with rt.sessions() as session:
        rows = await session.scalars(
            select(ActionRecord.data).where(ActionRecord.caused_by.in_([e["id"] for e in raw]))
            .order_by(ActionRecord.seq))
        return [str(data["text"]) for data in rows]


async def configure(rt: Runtime, org: int, section: str = "signin", **values: Any) -> None:
    """Set values at the organization layer (`section="community"` for the time zone)."""
    async with rt.sessions() as session:
        await do_set_layer(session, org_id=org, scope="organization", scope_id=org,
                           feature=section, values=values, at=START)
        await session.commit()


async def community_of(rt: Runtime, org: int) -> int:
    async with rt.sessions() as session:
        found = await session.scalar(select(Community.id).where(Community.org_id == org))
    assert found is not None
    return int(found)


async def person_of(rt: Runtime, member: str) -> int:
    async with rt.sessions() as session:
        found = await session.scalar(select(PlatformAccount.person_id)
                                     .where(PlatformAccount.platform_user_id == member))
    assert found is not None
    return int(found)


async def balance_of(rt: Runtime, org: int, member: str) -> int:
    async with rt.sessions() as session:
        return (await balance(session, community_id=await community_of(rt, org),
                              person_id=await person_of(rt, member))).balance


async def streaks_of(rt: Runtime, member: str) -> dict[date, tuple[str, int]]:
    """Day → (kind, streak) of a member's records."""
    person = await person_of(rt, member)
    async with rt.sessions() as session:
        rows = await session.execute(select(SigninRecord.day, SigninRecord.kind,
                                            SigninRecord.streak)
                                     .where(SigninRecord.person_id == person))
        return {day: (kind, streak) for day, kind, streak in rows}


@pytest.fixture
async def twin_url(database_url: str, tmp_path: Path, sqlite_template: Path,
                   pg_template: str | None) -> AsyncIterator[str]:
    """A second fresh, migrated database on the same backend."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "twin.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"qy_t_{uuid.uuid4().hex[:12]}"
    await _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _pg_url(name)
    await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
