"""Fixtures of the autoreply tests: a runtime with only this feature, settings and FAQ helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.community.models import Community
from qunyun.community.staff_service import cli_principal
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry
from qunyun.features.autoreply.models import FaqEntry
from qunyun.features.autoreply.plugin import FEATURE
from qunyun.features.autoreply.service import check_faq_input, do_create_entry
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.playbook import do_set_layer_values
from tests.conftest import START


@pytest.fixture
async def rt(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    runtime = await build_runtime(config, clock=clock, migrate=False,
                                  registry=FeatureRegistry([FEATURE]))
    yield runtime
    await runtime.close()


@pytest.fixture
async def org(rt: Runtime) -> int:
    return await ensure_default_org(rt.sessions, START)


async def configure(rt: Runtime, org: int, scope: str = "organization",
                    scope_id: int | None = None, **values: Any) -> None:
    async with rt.sessions() as session:
        await do_set_layer_values(session, rt.registry, org_id=org, scope=scope,
                                  scope_id=scope_id or org, section="autoreply",
                                  values={"enabled": True, **values}, unset=(), at=START)
        await session.commit()


async def community_of(rt: Runtime, org: int) -> int:
    async with rt.sessions() as session:
        found = await session.scalar(select(Community.id).where(Community.org_id == org)
                                     .order_by(Community.id))
        assert found is not None
        return found


async def add_faq(rt: Runtime, org: int, question: str, answer: str,
                  alternatives: tuple[str, ...] = ()) -> int:
    community = await community_of(rt, org)
    async with rt.sessions() as session:
        entry = await do_create_entry(
            session, principal=cli_principal(org), community_id=community,
            data=check_faq_input(question=question, alternatives=list(alternatives),
                                 answer=answer), at=START)
        await session.commit()
        return entry.id


async def entries(rt: Runtime) -> dict[int, FaqEntry]:
    async with rt.sessions() as session:
        return {e.id: e for e in await session.scalars(select(FaqEntry))}


async def sent(rt: Runtime) -> list[tuple[str, str | None, str]]:
    """(type, member, text) of every action, in order."""
    async with rt.sessions() as session:
        rows = (await session.scalars(select(ActionRecord).order_by(ActionRecord.seq))).all()
    return [(a.type, a.member_pid, a.data["text"]) for a in rows]


def rule(keywords: list[str], reply: str, **extra: Any) -> dict[str, Any]:
    return {"keywords": keywords, "reply": reply, **extra}
