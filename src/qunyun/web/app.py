"""Mounting the dashboard on the app: static files, templates, pages, sign-in, error pages."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from qunyun.web import deps, engagement, groups, locale, members, overview, playbooks, tasks
from qunyun.web.errors import install_error_pages
from qunyun.web.templating import STATIC_DIR, install_templates

PAGE_MODULES = (overview, groups, members, tasks, playbooks, locale)
PLAYGROUND_MODULE = "qunyun.web.playground"


def mount_dashboard(app: FastAPI, runtime: Any) -> None:
    """Add the dashboard to `app` (built by `qunyun.api.create_app` for `runtime`)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    env = install_templates(app)
    install_error_pages(app)
    deps.install_auth(app, runtime)
    for module in PAGE_MODULES:
        app.include_router(module.router)
    app.include_router(engagement.build_router())
    app.include_router(importlib.import_module("qunyun.web.moderation").build_router())
    playground = _playground_router()
    if playground is not None:
        app.include_router(playground)
    env.globals["has_playground"] = playground is not None


def _playground_router() -> APIRouter | None:
    """The playground's pages, when that module is installed."""
    if importlib.util.find_spec(PLAYGROUND_MODULE) is None:
        return None
    router = getattr(importlib.import_module(PLAYGROUND_MODULE), "router", None)
    return router if isinstance(router, APIRouter) else None
