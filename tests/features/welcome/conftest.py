"""Fixtures of the welcome tests: the pipeline's runtime factory and a twin database."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import _pg_exec
from tests.pipeline.conftest import make_runtime

__all__ = ["make_runtime", "twin_url"]


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
