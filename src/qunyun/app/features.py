"""The built-in features, in one explicit list."""

from __future__ import annotations

from qunyun.core.features import Feature, FeatureRegistry
from qunyun.features.stats.plugin import FEATURE as STATS


def builtin_features() -> list[Feature]:
    return [STATS]


def builtin_registry() -> FeatureRegistry:
    return FeatureRegistry(builtin_features())
