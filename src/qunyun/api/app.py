"""The REST API application: every resource under `/api/v1`, one error shape, token auth.

REST resources take an `api` token, the bridge endpoints a `bridge` token; both are enforced on
the routers, so a new endpoint cannot forget them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

import qunyun
from qunyun.api import (
    actions,
    bridge_actions,
    bridge_events,
    communities,
    events,
    failures,
    features,
    group_members,
    groups,
    memberships,
    onebot,
    organization,
    persons,
    points,
    tasks,
    telegram,
    wecom,
)
from qunyun.api.deps import api_principal, bridge_principal
from qunyun.api.errors import install_error_handlers
from qunyun.app.bootstrap import Runtime

PREFIX = "/api/v1"
REST_MODULES = (organization, communities, groups, group_members, persons, memberships, events,
                actions, tasks, features, failures, points)
BRIDGE_MODULES = (bridge_events, bridge_actions)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def _api_router() -> APIRouter:
    rest = APIRouter(dependencies=[Depends(api_principal)])
    for module in REST_MODULES:
        rest.include_router(module.router)
    bridge = APIRouter(dependencies=[Depends(bridge_principal)])
    for module in BRIDGE_MODULES:
        bridge.include_router(module.router)
    router = APIRouter(prefix=PREFIX)
    router.include_router(rest)
    router.include_router(bridge)
    router.include_router(wecom.router)  # signed by WeCom itself, no qunyun token
    router.include_router(telegram.router)  # Telegram's secret header, no qunyun token
    return router


def create_app(runtime: Runtime, *, lifespan: Lifespan | None = None) -> FastAPI:
    """The API for `runtime`. `lifespan` runs around serving (the server's background work)."""
    app = FastAPI(
        title="qunyun",
        summary="群运: run brand communities across chat groups.",
        version=qunyun.__version__,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=f"{PREFIX}/docs/oauth2-redirect",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    # Set when the server starts shutting down: long polls answer at once instead of holding on.
    app.state.stopping = asyncio.Event()
    install_error_handlers(app)
    app.include_router(_api_router())
    app.include_router(onebot.router)
    return app
