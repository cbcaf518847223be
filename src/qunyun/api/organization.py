"""`GET /organization`: the organization the token belongs to."""

from __future__ import annotations

from fastapi import APIRouter

from qunyun.api.deps import ApiCaller, SessionDep
from qunyun.api.schemas import OrganizationOut
from qunyun.community.models import Organization
from qunyun.core.errors import NotFound

router = APIRouter(tags=["organization"])


@router.get("/organization")
async def get_organization(caller: ApiCaller, session: SessionDep) -> OrganizationOut:
    org = await session.get(Organization, caller.org_id)
    if org is None:
        raise NotFound("no such organization")
    return OrganizationOut.model_validate(org)
