"""The dashboard fixtures of tests/web/pages (a shop with four groups, an owner, a guide of the
Shanghai store) on a runtime that runs `signin`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry
from qunyun.features.signin.plugin import FEATURE as SIGNIN
from qunyun.features.stats.plugin import FEATURE as STATS
from tests.web.pages.conftest import guide, owner, shop

__all__ = ["guide", "owner", "shop"]


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False,
                             registry=FeatureRegistry([SIGNIN, STATS]))
    yield rt
    await rt.close()
