from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.app.features import builtin_features
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import Feature, FeatureRegistry
from tests.conftest import START

RuntimeFactory = Callable[..., Any]


@pytest.fixture
async def make_runtime(database_url: str, tmp_path: Path,
                       clock: ManualClock) -> AsyncIterator[RuntimeFactory]:
    """Build a runtime with extra test features (and optionally extra platforms)."""
    built: list[Runtime] = []

    async def factory(*features: Feature, replay: bool = False,
                      platform_config: dict[str, Any] | None = None,
                      **kwargs: Any) -> tuple[Runtime, int]:
        registry = FeatureRegistry([*builtin_features(), *features])
        config = Config.model_validate({"data_dir": tmp_path / "data",
                                        "database_url": database_url,
                                        "platforms": platform_config or {}})
        rt = await build_runtime(config, clock=None if replay else clock, migrate=False,
                                 registry=registry, replay=replay, **kwargs)
        built.append(rt)
        return rt, await ensure_default_org(rt.sessions, START)

    yield factory
    for rt in built:
        await rt.close()
