"""Test fixtures: real databases with migrations applied, one fresh database per test.

SQLite always; PostgreSQL too when QUNYUN_TEST_DATABASE_URL is set (every test runs on both).
Migrations run once into a template; each test gets a copy (a file copy on SQLite, a
`CREATE DATABASE … TEMPLATE` on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.db.engine import create_engine
from qunyun.db.migrate import upgrade

PG_URL = os.environ.get("QUNYUN_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]
START = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[2] / "shared"


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


def _pg_admin_dsn() -> str:
    assert PG_URL
    url = make_url(PG_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url(name: str) -> str:
    assert PG_URL
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _pg_exec(*statements: str) -> None:
    connection = await asyncpg.connect(_pg_admin_dsn())
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return
    name = f"qy_tpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    asyncio.run(_migrate(_pg_url(name)))
    yield name
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                       sqlite_template: Path, pg_template: str | None) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "qunyun.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"qy_t_{uuid.uuid4().hex[:12]}"
    await _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _pg_url(name)
    await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False)
    yield rt
    await rt.close()


@pytest.fixture
async def org_id(runtime: Runtime) -> int:
    return await ensure_default_org(runtime.sessions, START)


def shared_data(*parts: str) -> Path:
    """A file under shared/testdata; missing data fails in CI rather than skipping."""
    path = SHARED.joinpath("testdata", *parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"test data missing: {path}")
        pytest.skip(f"test data missing: {path}")
    return path
