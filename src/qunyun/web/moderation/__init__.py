"""The governance pages (社群治理): a hub at /moderation and one module per page (the moderation
log, the rule editor with its dry run, rule hits and precision, and the pages other parts of
moderation add: blacklist, appeals, entry gates); see `hub`."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

from qunyun.web.moderation import hub


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    router.include_router(hub.router)
    for name in hub.installed_pages():
        router.include_router(importlib.import_module(f"qunyun.web.moderation.{name}").router)
    return router
