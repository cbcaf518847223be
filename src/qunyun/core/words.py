"""Chinese word segmentation (jieba), with its dictionary loaded once and quietly."""

from __future__ import annotations

import logging
from functools import cache

import jieba


@cache
def load_segmenter() -> None:
    """Load jieba's dictionary (about a second): on first use, or ahead of it from a
    feature's `warm_up`."""
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
