"""Persons of the organization: list (name, tag), and one person with accounts and history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import ApiCaller, SessionDep
from qunyun.api.pagination import Page, PageDep, fetch_scalars
from qunyun.api.schemas import AccountOut, HistoryOut, MembershipOut, PersonDetailOut, PersonOut
from qunyun.api.scoping import in_scope, person_in_scope
from qunyun.community.models import Group, Membership, Person, PersonTag, PlatformAccount, Tag
from qunyun.core.errors import NotFound

router = APIRouter(tags=["persons"])


async def tags_of_persons(session: AsyncSession, person_ids: list[int]) -> dict[int, list[str]]:
    if not person_ids:
        return {}
    rows = await session.execute(
        select(PersonTag.person_id, Tag.name).join(Tag, Tag.id == PersonTag.tag_id)
        .where(PersonTag.person_id.in_(person_ids)).order_by(Tag.name))
    tags: dict[int, list[str]] = {}
    for person_id, name in rows:
        tags.setdefault(person_id, []).append(name)
    return tags


@router.get("/persons")
async def list_persons(
    caller: ApiCaller, session: SessionDep, page: PageDep, tag: str | None = None,
    q: Annotated[str | None, Query(description="Name contains (case-insensitive).")] = None,
) -> Page[PersonOut]:
    query = select(Person).where(Person.org_id == caller.org_id,
                                 person_in_scope(caller, Person.id))
    if q:
        query = query.where(Person.display_name.icontains(q, autoescape=True))
    if tag:
        tagged = (select(PersonTag.person_id).join(Tag, Tag.id == PersonTag.tag_id)
                  .where(Tag.org_id == caller.org_id, Tag.name == tag))
        query = query.where(Person.id.in_(tagged))
    persons, total = await fetch_scalars(session, query.order_by(Person.id), page)
    tags = await tags_of_persons(session, [p.id for p in persons])
    items = [PersonOut.model_validate(p).model_copy(update={"tags": tags.get(p.id, [])})
             for p in persons]
    return Page(items=items, total=total)


@router.get("/persons/{person_id}")
async def get_person(person_id: int, caller: ApiCaller, session: SessionDep) -> PersonDetailOut:
    """The profile, the platform accounts and every membership period (history)."""
    person = await session.scalar(select(Person).where(Person.org_id == caller.org_id,
                                                       Person.id == person_id,
                                                       person_in_scope(caller, Person.id)))
    if person is None:
        raise NotFound("no such person: {id}", id=person_id)
    accounts = await session.scalars(
        select(PlatformAccount).where(PlatformAccount.org_id == caller.org_id,
                                      PlatformAccount.person_id == person.id)
        .order_by(PlatformAccount.id))
    periods = await session.execute(
        select(Membership, Group.name).join(Group, Group.id == Membership.group_id)
        .where(Membership.org_id == caller.org_id, Membership.person_id == person.id,
               in_scope(caller, Membership.group_id))
        .order_by(Membership.id))
    history = [HistoryOut(**MembershipOut.model_validate(m).model_dump(), group_name=name)
               for m, name in periods]
    tags = await tags_of_persons(session, [person.id])
    return PersonDetailOut(
        **PersonOut.model_validate(person).model_dump(exclude={"tags"}),
        tags=tags.get(person.id, []),
        accounts=[AccountOut.model_validate(a) for a in accounts], history=history)
