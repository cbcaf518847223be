"""The engagement pages: a hub at /engagement and one module per feature (points, sign-in,
FAQ, leaderboards, levels and badges, red packets, challenges, highlights); see `hub`."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

from qunyun.web.engagement import hub


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    router.include_router(hub.router)
    for name in hub.installed_pages():
        router.include_router(importlib.import_module(f"qunyun.web.engagement.{name}").router)
    return router
