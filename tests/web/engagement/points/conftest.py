"""The page tests' shop (tests/web/pages), with the points feature in the registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry
from qunyun.features.points.plugin import FEATURE as POINTS
from qunyun.features.stats.plugin import FEATURE as STATS
from tests.web.pages.conftest import guide, owner, shop

__all__ = ["guide", "owner", "shop"]


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False,
                             registry=FeatureRegistry([POINTS, STATS]))
    yield rt
    await rt.close()
