"""Fixtures of the highlights tests: a runtime with the feature on, roles, sent replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.community.models import Group, Membership, PlatformAccount
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry
from qunyun.features.highlights.models import Highlight
from qunyun.features.highlights.plugin import FEATURE
from qunyun.features.stats.plugin import FEATURE as STATS
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.playbook.apply import do_set_layer_values
from tests.conftest import START


@pytest.fixture
async def rt(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    runtime = await build_runtime(config, clock=clock, migrate=False,
                                  registry=FeatureRegistry([FEATURE, STATS]))
    yield runtime
    await runtime.close()


@pytest.fixture
async def org(rt: Runtime) -> int:
    """The organization, with highlights on."""
    org_id = await ensure_default_org(rt.sessions, START)
    await configure(rt, org_id, enabled=True)
    return org_id


async def configure(rt: Runtime, org_id: int, **values: Any) -> None:
    async with rt.write_sessions() as session:
        await do_set_layer_values(session, rt.registry, org_id=org_id, scope="organization",
                                  scope_id=org_id, section="highlights", values=values, at=START)
        await session.commit()


async def set_role(rt: Runtime, member: str, role: str) -> None:
    """Give `member` a role in every group they are in (as a platform sync would)."""
    async with rt.write_sessions() as session:
        person = select(PlatformAccount.person_id).where(
            PlatformAccount.platform_user_id == member).scalar_subquery()
        await session.execute(update(Membership).where(Membership.person_id == person)
                              .values(role=role))
        await session.commit()


async def replies(rt: Runtime) -> list[tuple[str, str | None]]:
    """What highlights said, in order: (text, the message it replied to)."""
    async with rt.sessions() as session:
        rows = await session.scalars(select(ActionRecord).where(
            ActionRecord.feature == "highlights").order_by(ActionRecord.seq))
        return [(a.data["text"], a.data.get("reply_to")) for a in rows]


async def highlights(rt: Runtime) -> list[Highlight]:
    async with rt.sessions() as session:
        return list(await session.scalars(select(Highlight).order_by(Highlight.id)))


async def group_id(rt: Runtime, platform_id: str = "g1") -> int:
    async with rt.sessions() as session:
        found = await session.scalar(select(Group.id).where(Group.platform_id == platform_id))
        assert found is not None
        return found
