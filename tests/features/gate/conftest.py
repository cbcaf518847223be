"""Fixtures of the gate tests: a runtime with the gate (and the welcome) on, driven by events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.community.models import Community, Group, Membership, PlatformAccount
from qunyun.community.settings import do_set_layer
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry
from qunyun.core.platform import Platform
from qunyun.features.gate.models import JoinRequest
from qunyun.features.gate.plugin import FEATURE as GATE
from qunyun.features.welcome.plugin import FEATURE as WELCOME
from qunyun.pipeline.models import ActionRecord
from tests import factories as f
from tests.conftest import START


@dataclass
class Gate:
    rt: Runtime
    org: int

    async def configure(self, **values: Any) -> None:
        async with self.rt.sessions() as session:
            await do_set_layer(session, org_id=self.org, scope="organization",
                               scope_id=self.org, feature="gate",
                               values={"enabled": True, **values}, at=START)
            await do_set_layer(session, org_id=self.org, scope="organization",
                               scope_id=self.org, feature="community",
                               values={"language": "en"}, at=START)
            await session.commit()

    async def send(self, *raw: dict[str, Any]) -> None:
        await self.rt.pipeline.ingest(self.org, list(raw))

    async def ask(self, member: str, request_id: str, *, minutes: float = 0,
                  platform: str = "bridge", **data: Any) -> dict[str, Any]:
        raw = f.event("member.join_requested", member=member, minutes=minutes,
                      platform=platform, request_id=request_id,
                      name=data.pop("name", f"名{member}"), **data)
        await self.send(raw)
        return raw

    async def actions(self, caused_by: str | None = None) -> list[tuple[str, str | None]]:
        async with self.rt.sessions() as session:
            query = select(ActionRecord).where(ActionRecord.feature == "gate")
            if caused_by:
                query = query.where(ActionRecord.caused_by == caused_by)
            rows = await session.scalars(query.order_by(ActionRecord.seq))
            return [(r.type, r.member_pid) for r in rows]

    async def texts(self, caused_by: str) -> list[str]:
        async with self.rt.sessions() as session:
            rows = await session.scalars(select(ActionRecord).where(
                ActionRecord.caused_by == caused_by).order_by(ActionRecord.seq))
            return [str(r.data.get("text") or r.data.get("reason") or "") for r in rows]

    async def requests(self) -> list[JoinRequest]:
        async with self.rt.sessions() as session:
            return list(await session.scalars(select(JoinRequest).order_by(JoinRequest.id)))

    async def person(self, member: str) -> int:
        async with self.rt.sessions() as session:
            found = await session.scalar(select(PlatformAccount.person_id).where(
                PlatformAccount.platform_user_id == member))
            assert found is not None
            return int(found)

    async def numbers(self, group: str = "g1") -> dict[str, int | None]:
        """Member numbers of the open memberships of a group, by platform user id."""
        async with self.rt.sessions() as session:
            rows = await session.execute(
                select(PlatformAccount.platform_user_id, Membership.member_no)
                .join(Membership, Membership.person_id == PlatformAccount.person_id)
                .join(Group, Group.id == Membership.group_id)
                .where(Group.platform_id == group, Membership.status == "active"))
            return {user: number for user, number in rows}

    async def community(self) -> int:
        async with self.rt.sessions() as session:
            found = await session.scalar(select(Community.id).where(Community.org_id == self.org))
            assert found is not None
            return int(found)


async def make_gate(database_url: str, data_dir: Path, clock: ManualClock | None, *,
                    replay: bool = False,
                    platforms: dict[str, Platform] | None = None) -> Gate:
    config = Config(data_dir=data_dir, database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False, replay=replay,
                             registry=FeatureRegistry([GATE, WELCOME]), platforms=platforms)
    return Gate(rt, await ensure_default_org(rt.sessions, START))


@pytest.fixture
async def gate(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Gate]:
    made = await make_gate(database_url, tmp_path / "data", clock)
    yield made
    await made.rt.close()
