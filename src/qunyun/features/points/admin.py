"""A staff member's manual adjustment of one member's points, checked and audited.

Who may: the ACT permission (guides reward or correct their own customers) on a person in
one of the staff member's groups; CSV import and applying a recompute need CONFIGURE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import ACT, Principal
from qunyun.community.audit import do_record
from qunyun.community.models import Community, Person
from qunyun.core.errors import ErrorCollector, Forbidden, InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.features.points.csvio import MAX_AMOUNT, MAX_NOTE, visible_person
from qunyun.points import service as ledger
from qunyun.points.models import PointsEntry


def check_adjustment(amount_text: str, note: str) -> int:
    """The amount of a form or command; InvalidInput naming the field otherwise."""
    errors = ErrorCollector()
    amount = 0
    try:
        amount = int(amount_text.strip())
    except ValueError:
        errors.add("amount", N_("must be a whole number"))
    else:
        if amount == 0 or abs(amount) > MAX_AMOUNT:
            errors.add("amount", N_("must be between -{limit} and {limit}, not 0"),
                       limit=MAX_AMOUNT)
    if not note.strip():
        errors.add("note", N_("say why, for the audit log"))
    elif len(note) > MAX_NOTE:
        errors.add("note", N_("must have at most {limit} items or characters"), limit=MAX_NOTE)
    if errors:
        raise InvalidInput("the adjustment was not made", errors=errors.errors)
    return amount


async def access_member(session: AsyncSession, principal: Principal, person_id: int) -> Person:
    """The person, if in one of the principal's groups (or the principal sees everything)."""
    person = await session.scalar(select(Person).where(
        Person.org_id == principal.org_id, Person.id == person_id, visible_person(principal)))
    if person is None:
        exists = await session.scalar(select(Person.id).where(
            Person.org_id == principal.org_id, Person.id == person_id))
        if exists is None:
            raise NotFound("no such person: {id}", id=person_id)
        raise Forbidden("this member is in none of your groups")
    return person


async def access_community(session: AsyncSession, principal: Principal,
                           community_id: int) -> Community:
    community = await session.scalar(select(Community).where(
        Community.org_id == principal.org_id, Community.id == community_id))
    if community is None:
        raise NotFound("no such community: {id}", id=community_id)
    return community


async def do_staff_adjust(session: AsyncSession, *, principal: Principal, community_id: int,
                          person_id: int, amount: int, note: str, key: str,
                          at: datetime) -> PointsEntry | None:
    """Adjust and audit; None when `key` was used already (a form sent twice)."""
    principal.require(ACT)
    await access_member(session, principal, person_id)
    await access_community(session, principal, community_id)
    before = await ledger.balance(session, community_id=community_id, person_id=person_id)
    entry = await ledger.do_adjust(session, org_id=principal.org_id, community_id=community_id,
                                   person_id=person_id, amount=amount, actor=principal.actor,
                                   note=note.strip(), key=key, at=at)
    if entry is not None:
        await do_record(session, principal=principal, action="points.adjust",
                        target_type="person", target_id=person_id,
                        before={"community_id": community_id, "balance": before.balance},
                        after={"community_id": community_id, "balance": before.balance + amount,
                               "amount": amount, "note": note.strip()}, at=at)
    return entry
