"""The same history gives the same announcements, with the same action ids, in a fresh
database: levels and badges derive from events only."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from qunyun.app.bootstrap import Runtime, ensure_default_org
from qunyun.core.clock import ManualClock
from qunyun.pipeline.models import ActionRecord
from tests import factories as f
from tests.conftest import START, _pg_exec
from tests.features.levels.kit import configure, feed, open_runtime

DAY = 24 * 60


@pytest.fixture
async def twin_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A second fresh database like `database_url` (copied before either is used)."""
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


def history() -> list[list[dict[str, Any]]]:
    """Three days of a small group, in batches."""
    batches = []
    for day in range(3):
        at = day * DAY
        batches.append([f.message("u1", "签到", name="小王", id=f"s{day}", minutes=at + 1),
                        f.message("u2", "签到", name="小李", id=f"t{day}", minutes=at + 2),
                        f.message("u1", "*45", name="小王", id=f"m{day}", minutes=at + 3),
                        f.message("u2", "我的等级", name="小李", id=f"q{day}", minutes=at + 4)])
    return batches


async def replayed(url: str, tmp_path: Path) -> list[tuple[str, str, str]]:
    rt: Runtime = await open_runtime(url, tmp_path, ManualClock(START))
    try:
        org_id = await ensure_default_org(rt.sessions, START)
        await configure(rt, org_id, "levels")
        for batch in history():
            await feed(rt, org_id, *batch)
        async with rt.sessions() as session:
            rows = await session.execute(select(ActionRecord.id, ActionRecord.caused_by,
                                                ActionRecord.data)
                                         .where(ActionRecord.feature == "levels")
                                         .order_by(ActionRecord.seq))
            return [(i, cause, str(data["text"])) for i, cause, data in rows]
    finally:
        await rt.close()


async def test_replay_gives_the_same_announcements(database_url: str, twin_url: str,
                                                   tmp_path: Path) -> None:
    first = await replayed(database_url, tmp_path / "a")
    second = await replayed(twin_url, tmp_path / "b")
    assert first == second
    # 3 replies; day 1's badges (two first sign-ins, an early bird) in one message on day 2;
    # day 2's promotion on day 3.
    assert [len(text.splitlines()) for _, _, text in first] == [3, 3, 3, 1, 3]
