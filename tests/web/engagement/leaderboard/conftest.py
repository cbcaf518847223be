"""The page tests' shop (tests/web/pages) with its staff: HQ owner and a Shanghai guide."""

from __future__ import annotations

from tests.web.pages.conftest import guide, owner, runtime, shop

__all__ = ["guide", "owner", "runtime", "shop"]
