"""The built-in features, in one explicit list."""

from __future__ import annotations

import importlib
import importlib.util

from qunyun.core.features import Feature, FeatureRegistry

# Package names under qunyun.features; each has a `plugin` module with FEATURE (and may have
# a `models` module with its tables).
BUILTIN = ("welcome", "moderation", "autoreply", "signin", "points", "levels", "leaderboard",
           "redpacket", "challenge", "highlights", "help", "stats", "gate")


def builtin_features() -> list[Feature]:
    features = []
    for name in BUILTIN:
        feature = importlib.import_module(f"qunyun.features.{name}.plugin").FEATURE
        assert isinstance(feature, Feature)
        features.append(feature)
    return features


def builtin_registry() -> FeatureRegistry:
    return FeatureRegistry(builtin_features())


def import_feature_models() -> None:
    """Import every built-in feature's tables (for the metadata of migrations)."""
    for name in BUILTIN:
        module = f"qunyun.features.{name}.models"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
