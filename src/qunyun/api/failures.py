"""`GET /failures`: feature handlers that raised, newest first."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from qunyun.api.deps import ApiCaller, SessionDep
from qunyun.api.pagination import Page, PageDep, fetch_scalars
from qunyun.api.schemas import FailureOut
from qunyun.core.errors import Forbidden
from qunyun.pipeline.models import FeatureFailure

router = APIRouter(tags=["failures"])


@router.get("/failures")
async def list_failures(caller: ApiCaller, session: SessionDep, page: PageDep,
                        feature: str | None = None) -> Page[FailureOut]:
    if not caller.scope.whole_org:  # failures belong to no group: HQ tokens only
        raise Forbidden("only tokens for the whole organization may read failures")
    query = select(FeatureFailure).where(FeatureFailure.org_id == caller.org_id)
    if feature:
        query = query.where(FeatureFailure.feature == feature)
    rows, total = await fetch_scalars(session, query.order_by(FeatureFailure.id.desc()), page)
    return Page(items=[FailureOut.model_validate(r) for r in rows], total=total)
