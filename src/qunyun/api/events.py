"""`GET /events`: the event log, oldest first; `after` is a `seq` cursor."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from sqlalchemy import select

from qunyun.api.deps import ApiCaller, SessionDep
from qunyun.api.pagination import Page, PageDep, fetch_scalars
from qunyun.api.schemas import EventOut
from qunyun.api.scoping import in_scope
from qunyun.pipeline.models import EventRecord

router = APIRouter(tags=["events"])


@router.get("/events")
async def list_events(
    caller: ApiCaller, session: SessionDep, page: PageDep, group_id: int | None = None,
    type: Annotated[str | None, Query(description="Event type, e.g. member.joined.")] = None,
    after: Annotated[int | None, Query(ge=0, description="Only events after this seq.")] = None,
) -> Page[EventOut]:
    query = select(EventRecord).where(EventRecord.org_id == caller.org_id,
                                      in_scope(caller, EventRecord.group_id))
    if group_id is not None:
        query = query.where(EventRecord.group_id == group_id)
    if type:
        query = query.where(EventRecord.type == type)
    if after is not None:
        query = query.where(EventRecord.seq > after)
    rows, total = await fetch_scalars(session, query.order_by(EventRecord.seq), page)
    items = [EventOut(seq=r.seq, group_id=r.group_id, person_id=r.person_id,
                      event=orjson.loads(r.body)) for r in rows]
    return Page(items=items, total=total)
