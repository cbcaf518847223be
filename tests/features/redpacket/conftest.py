"""Fixtures of the red packet tests: a runtime with the feature on, and a chat to drive it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.community.models import Community, Group, PlatformAccount
from qunyun.community.settings import do_set_layer
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import Feature, FeatureRegistry
from qunyun.features.redpacket.plugin import FEATURE
from qunyun.pipeline.models import ActionRecord
from qunyun.points import service as points
from tests import factories as f
from tests.conftest import START, _pg_exec


@dataclass
class Chat:
    """Members talking in groups through the real pipeline; what the bot answered."""

    rt: Runtime
    org: int
    feature: str = "redpacket"

    async def enable(self, **values: Any) -> None:
        async with self.rt.sessions() as session:
            await do_set_layer(session, org_id=self.org, scope="organization",
                               scope_id=self.org, feature=self.feature,
                               values={"enabled": True, **values}, at=START)
            await session.commit()

    async def speak_english(self) -> None:
        """Replies in English: tests read the message ids, not a translation."""
        async with self.rt.sessions() as session:
            await do_set_layer(session, org_id=self.org, scope="organization",
                               scope_id=self.org, feature="community",
                               values={"language": "en"}, at=START)
            await session.commit()

    async def post(self, raw: dict[str, Any]) -> list[str]:
        """Ingest one event; the texts the bot sent because of it."""
        await self.rt.pipeline.ingest(self.org, [raw])
        return await self.replies(raw["id"])

    async def say(self, member: str, text: str, *, minutes: float = 0, group: str = "g1",
                  **data: Any) -> list[str]:
        return await self.post(f.message(member, text, minutes=minutes, group=group,
                                         name=data.pop("name", f"名{member}"), **data))

    async def replies(self, caused_by: str) -> list[str]:
        async with self.rt.sessions() as session:
            rows = await session.scalars(select(ActionRecord).where(
                ActionRecord.caused_by == caused_by).order_by(ActionRecord.seq))
            return [str(r.data.get("text", "")) for r in rows]

    async def actions(self, feature: str | None = None) -> list[ActionRecord]:
        async with self.rt.sessions() as session:
            query = select(ActionRecord).order_by(ActionRecord.seq)
            if feature:
                query = query.where(ActionRecord.feature == feature)
            return list((await session.scalars(query)).all())

    async def tick(self, at: datetime) -> int:
        return await self.rt.pipeline.tick(at)

    async def person(self, member: str) -> int:
        async with self.rt.sessions() as session:
            found = await session.scalar(select(PlatformAccount.person_id).where(
                PlatformAccount.org_id == self.org, PlatformAccount.platform_user_id == member))
            assert found is not None, member
            return int(found)

    async def community(self) -> int:
        async with self.rt.sessions() as session:
            found = await session.scalar(select(Community.id).where(Community.org_id == self.org))
            assert found is not None
            return int(found)

    async def group(self, platform_id: str = "g1") -> int:
        async with self.rt.sessions() as session:
            found = await session.scalar(select(Group.id).where(Group.platform_id == platform_id))
            assert found is not None
            return int(found)

    async def join(self, *members: str, group: str = "g1", minutes: float = -60) -> None:
        await self.rt.pipeline.ingest(self.org, [f.joined(m, name=f"名{m}", group=group,
                                                          minutes=minutes) for m in members])

    async def grant(self, member: str, amount: int) -> None:
        await self.join(member)
        person, community = await self.person(member), await self.community()
        async with self.rt.sessions() as session:
            await points.do_award(session, org_id=self.org, community_id=community,
                                  person_id=person, amount=amount, reason="adjust",
                                  key=f"grant:{member}:{amount}:{START.isoformat()}", at=START)
            await session.commit()

    async def balance(self, member: str) -> int:
        community, person = await self.community(), await self.person(member)
        async with self.rt.sessions() as session:
            return (await points.balance(session, community_id=community,
                                         person_id=person)).balance


async def make_chat(database_url: str, data_dir: Path, clock: ManualClock | None,
                    *features: Feature, replay: bool = False) -> Chat:
    config = Config(data_dir=data_dir, database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False, replay=replay,
                             registry=FeatureRegistry(list(features)))
    return Chat(rt, await ensure_default_org(rt.sessions, START))


@pytest.fixture
async def chat(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Chat]:
    made = await make_chat(database_url, tmp_path / "data", clock, FEATURE)
    await made.enable()
    await made.speak_english()
    yield made
    await made.rt.close()


def later(hours: float) -> datetime:
    return START + timedelta(hours=hours)


@pytest.fixture
async def twin_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A second fresh database like `database_url`, for replays."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        twin = tmp_path / "twin.db"
        shutil.copyfile(str(url.database), twin)
        yield f"sqlite+aiosqlite:///{twin}"
        return
    name = f"{url.database}_twin"
    await _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
