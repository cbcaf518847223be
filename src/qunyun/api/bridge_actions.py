"""Actions for bridges: a long poll to fetch them, acknowledgements to close them.

`GET /bridge/actions?after=CURSOR&wait=SECONDS` answers at once when dispatched actions newer
than the cursor exist, else waits for some (at most `wait` seconds) and answers with none.
The cursor is the `seq` of the last action returned, as a string.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import BridgeCaller, Locale, RuntimeDep, Stopping
from qunyun.api.errors import error_body
from qunyun.app.bootstrap import Runtime
from qunyun.core.errors import ErrorCollector, InvalidInput, NotFound
from qunyun.pipeline.delivery import acknowledge, to_action
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.outbox import DISPATCHED

# Wait in slices this long so a poll notices that the server is stopping.
POLL_SLICE_S = 1.0

router = APIRouter(tags=["bridge"])


class ActionsOut(BaseModel):
    actions: list[dict[str, Any]]  # bridge protocol JSON
    cursor: str


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: Literal["done", "failed", "unsupported"]
    reason: str | None = Field(default=None, max_length=200)  # kept on the task as given


class AckItemIn(AckIn):
    id: str = Field(min_length=1, max_length=40)


class AckOut(BaseModel):
    id: str
    status: str | None = None  # the action's status after the acknowledgement
    error: dict[str, Any] | None = None  # why this acknowledgement was refused


class AcksOut(BaseModel):
    results: list[AckOut]


def parse_cursor(after: str | None) -> int:
    if after is None or after == "":
        return 0
    if not after.isdigit():
        errors = ErrorCollector()
        errors.add("query.after", "must be a cursor this endpoint returned (digits)")
        raise InvalidInput("the request is invalid", errors=errors.errors)
    return int(after)


async def dispatched_after(runtime: Runtime, org_id: int, cursor: int,
                           limit: int) -> list[ActionRecord]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(ActionRecord).where(ActionRecord.org_id == org_id,
                                       ActionRecord.status == DISPATCHED,
                                       ActionRecord.seq > cursor)
            .order_by(ActionRecord.seq).limit(limit))
        return list(rows)


@router.get("/bridge/actions")
async def poll_actions(
    caller: BridgeCaller, runtime: RuntimeDep, stopping: Stopping,
    after: Annotated[str | None, Query(description="The cursor of the last answer.")] = None,
    wait: Annotated[float, Query(ge=0, le=60, description="Seconds to wait for actions.")] = 25,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ActionsOut:
    cursor = parse_cursor(after)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        changed = runtime.bridge.changed(caller.org_id)  # before the query: no lost wake-up
        rows = await dispatched_after(runtime, caller.org_id, cursor, limit)
        remaining = deadline - loop.time()
        if rows or remaining <= 0 or stopping.is_set():
            break
        with suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), min(remaining, POLL_SLICE_S))
    return ActionsOut(actions=[to_action(r).to_json() for r in rows],
                      cursor=str(rows[-1].seq if rows else cursor))


async def _acknowledge(session: AsyncSession, runtime: Runtime, org_id: int, action_id: str,
                       ack: AckIn) -> AckOut:
    row = await acknowledge(session, org_id=org_id, action_id=action_id, result=ack.result,
                            reason=ack.reason, now=runtime.clock.now())
    return AckOut(id=action_id, status=row.status)


@router.post("/bridge/actions/{action_id}/ack", response_model_exclude_none=True)
async def ack_action(action_id: str, body: AckIn, caller: BridgeCaller,
                     runtime: RuntimeDep) -> AckOut:
    """The result of one action: `done`, `failed` (with a reason) or `unsupported` (it becomes
    a staff task). Acknowledging again has no further effect."""
    async with runtime.write_sessions() as session:
        out = await _acknowledge(session, runtime, caller.org_id, action_id, body)
        await session.commit()
    return out


@router.post("/bridge/acks", response_model_exclude_none=True)
async def ack_actions(
    body: Annotated[list[AckItemIn], Field(max_length=1000)], caller: BridgeCaller,
    runtime: RuntimeDep, locale: Locale,
) -> AcksOut:
    """Many acknowledgements at once; an unknown id is answered with its error, the others
    are applied."""
    results: list[AckOut] = []
    async with runtime.write_sessions() as session:
        for item in body:
            try:
                results.append(await _acknowledge(session, runtime, caller.org_id, item.id, item))
            except NotFound as exc:
                results.append(AckOut(id=item.id, error=error_body(exc, locale)))
        await session.commit()
    return AcksOut(results=results)
