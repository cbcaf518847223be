"""The playground chat: create playground groups, add simulated members, type as any of them,
and watch the bot answer live. Every feature can be tried here end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from qunyun.web.playground import acts, chat, pages, stream


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    acts.install(app.state.runtime)  # kicks are answered even before anyone opens a chat
    yield


router = APIRouter(include_in_schema=False, lifespan=_lifespan)
for _module in (pages, stream, chat):
    router.include_router(_module.router)

__all__ = ["router"]
