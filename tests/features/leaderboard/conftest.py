from tests.features.levels.kit import runtime

__all__ = ["runtime"]
