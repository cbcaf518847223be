"""Fixtures of the help tests: the pipeline's runtime factory."""

from tests.pipeline.conftest import make_runtime

__all__ = ["make_runtime"]
