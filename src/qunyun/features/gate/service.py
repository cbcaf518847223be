"""The gate's decisions: who may enter a group, recorded as join requests.

`decide` applies the group's mode to one applicant (blacklist first, then open / invite / code /
questionnaire / paid); `do_open_request` records the outcome; `do_decide` records a later
decision (staff, a payment, the timeout). Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Membership
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.core.errors import Conflict, ErrorCollector, InvalidInput
from qunyun.core.features import GroupInfo
from qunyun.core.i18n import N_
from qunyun.features.gate import codes, questionnaire
from qunyun.features.gate.models import (
    APPROVED,
    EXPIRED,
    FROM_JOIN,
    PENDING,
    REJECTED,
    WAIT_PAYMENT,
    WAIT_REVIEW,
    Entitlement,
    InviteCode,
    JoinRequest,
)
from qunyun.features.gate.settings import GateSettings
from qunyun.features.gate.standing import inviter_refusal, is_blacklisted

MAX_NOTE = 500
BLACKLISTED = N_("you cannot join this group")
REVIEW = N_("waiting for review")
PAYMENT = N_("waiting for payment")


@dataclass(frozen=True, slots=True)
class Applicant:
    """Someone at the gate: from a join request, or from a join the gate answers afterwards."""

    person_id: int
    member: str
    request_id: str
    source: str
    event_id: str
    name: str = ""
    comment: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    inviter: str | None = None
    via: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    status: str
    rule: str
    reason: str = ""  # a message id
    waiting_for: str = ""
    code_id: int | None = None
    entitlement: Entitlement | None = None


async def find_request(session: AsyncSession, *, group_id: int,
                       request_id: str) -> JoinRequest | None:
    return await session.scalar(select(JoinRequest).where(JoinRequest.group_id == group_id,
                                                          JoinRequest.request_id == request_id))


async def decide(session: AsyncSession, *, group: GroupInfo, settings: GateSettings,
                 applicant: Applicant, at: datetime) -> Decision:
    """Apply the group's gate to the applicant; takes a code's use or a payment if it admits."""
    if await is_blacklisted(session, org_id=group.org_id, person_id=applicant.person_id, at=at):
        return Decision(REJECTED, "blacklist", BLACKLISTED)
    mode = settings.mode
    if mode == "invite":
        refusal = await inviter_refusal(session, group=group, settings=settings,
                                        inviter=applicant.inviter,
                                        applicant_id=applicant.person_id, at=at)
        return Decision(REJECTED, "inviter", refusal) if refusal else Decision(APPROVED,
                                                                               "inviter")
    if mode == "code":
        return await _by_code(session, group, applicant.code or "", at)
    if mode == "questionnaire":
        return _by_answers(settings, applicant)
    if mode == "paid":
        entitlement = await _unused_payment(session, org_id=group.org_id,
                                            person_id=applicant.person_id,
                                            item=settings.item, price_cents=settings.price_cents,
                                            currency=settings.currency)
        if entitlement is None:
            return Decision(PENDING, "payment", PAYMENT, WAIT_PAYMENT)
        return Decision(APPROVED, "payment", entitlement=entitlement)
    return Decision(APPROVED, "open")


async def _by_code(session: AsyncSession, group: GroupInfo, raw: str, at: datetime) -> Decision:
    code = await codes.find_code(session, org_id=group.org_id, code=raw) if raw.strip() else None
    refusal = codes.refusal(code, community_id=group.community_id, group_id=group.id, at=at)
    if refusal is not None or code is None:
        return Decision(REJECTED, "code", refusal or codes.UNKNOWN)
    if not await codes.do_take_use(session, code_id=code.id):
        return Decision(REJECTED, "code", codes.USED_UP, code_id=code.id)
    return Decision(APPROVED, "code", code_id=code.id)


def _by_answers(settings: GateSettings, applicant: Applicant) -> Decision:
    if applicant.source == FROM_JOIN:  # joined without answering: staff decide
        return Decision(PENDING, "answers", REVIEW, WAIT_REVIEW)
    verdict = questionnaire.evaluate(settings, applicant.answers)
    if verdict.passed:
        return Decision(APPROVED, "answers")
    if settings.rules and settings.on_rule_fail == "reject":
        return Decision(REJECTED, "answers", verdict.reason)
    return Decision(PENDING, "answers", REVIEW, WAIT_REVIEW)


def _payment_fits(entitlement: Entitlement, *, item: str, price_cents: int,
                  currency: str) -> bool:
    return ((not item or entitlement.item == item)
            and entitlement.amount_cents >= price_cents
            and entitlement.currency.upper() == currency.upper())


async def _unused_payment(session: AsyncSession, *, org_id: int, person_id: int, item: str,
                          price_cents: int, currency: str) -> Entitlement | None:
    rows = await session.scalars(select(Entitlement).where(
        Entitlement.org_id == org_id, Entitlement.person_id == person_id,
        Entitlement.used_at.is_(None)).order_by(Entitlement.id))
    for entitlement in rows:
        if _payment_fits(entitlement, item=item, price_cents=price_cents, currency=currency):
            return entitlement
    return None


async def do_open_request(session: AsyncSession, *, group: GroupInfo, settings: GateSettings,
                          applicant: Applicant, decision: Decision,
                          at: datetime) -> JoinRequest:
    """Record the applicant and the gate's decision (a payment it used is marked used)."""
    pending = decision.status == PENDING
    timeout = settings.timeout_hours if pending and settings.on_timeout == "reject" else 0
    row = JoinRequest(
        org_id=group.org_id, group_id=group.id, person_id=applicant.person_id,
        member=applicant.member, request_id=applicant.request_id, source=applicant.source,
        name=applicant.name[:200], comment=applicant.comment, answers=dict(applicant.answers),
        inviter=applicant.inviter, via=applicant.via, code=applicant.code,
        code_id=decision.code_id, status=decision.status, waiting_for=decision.waiting_for,
        item=settings.item, price_cents=settings.price_cents, currency=settings.currency,
        numbering=settings.numbering,
        rule=decision.rule, decided_by=None if pending else "gate", reason=decision.reason,
        event_id=applicant.event_id, created_at=at, decided_at=None if pending else at,
        expires_at=at + timedelta(hours=timeout) if timeout else None)
    session.add(row)
    await session.flush()
    if decision.entitlement is not None:
        decision.entitlement.used_at = at
        decision.entitlement.used_by = row.id
        await session.flush()
    return row


async def do_record_payment(session: AsyncSession, *, org_id: int, person_id: int,
                            platform: str, data: dict[str, Any],
                            at: datetime) -> Entitlement | None:
    """Keep a payment as an entitlement; None if this order was recorded before."""
    order_id = str(data["order_id"])
    known = await session.scalar(select(Entitlement.id).where(
        Entitlement.org_id == org_id, Entitlement.platform == platform,
        Entitlement.order_id == order_id))
    if known is not None:
        return None
    entitlement = Entitlement(org_id=org_id, person_id=person_id, platform=platform,
                              order_id=order_id, item=str(data.get("item") or ""),
                              amount_cents=int(data["amount_cents"]),
                              currency=str(data["currency"]), paid_at=at)
    session.add(entitlement)
    await session.flush()
    return entitlement


async def waiting_for_payment(session: AsyncSession, *, org_id: int,
                              person_id: int) -> list[JoinRequest]:
    return list(await session.scalars(select(JoinRequest).where(
        JoinRequest.org_id == org_id, JoinRequest.person_id == person_id,
        JoinRequest.status == PENDING, JoinRequest.waiting_for == WAIT_PAYMENT)
        .order_by(JoinRequest.id)))


async def do_unlock_with(session: AsyncSession, *, entitlement: Entitlement,
                         requests: list[JoinRequest], at: datetime) -> JoinRequest | None:
    """Approve the first pending request the payment pays for; None if it fits none."""
    for request in requests:
        if _payment_fits(entitlement, item=request.item, price_cents=request.price_cents,
                         currency=request.currency):
            await do_decide(session, request=request, status=APPROVED,
                            decided_by=f"payment:{entitlement.order_id}", rule="payment",
                            reason="", at=at)
            entitlement.used_at = at
            entitlement.used_by = request.id
            await session.flush()
            return request
    return None


def check_decision(*, request: JoinRequest, status: str, note: str) -> str:
    """Staff may approve or reject a pending request, with a note; the note, trimmed."""
    errors = ErrorCollector()
    if status not in (APPROVED, REJECTED):
        errors.add("status", "must be one of: {choices}", choices=f"{APPROVED}, {REJECTED}")
    if len(note) > MAX_NOTE:
        errors.add("note", "must be at most {limit} characters", limit=MAX_NOTE)
    if errors:
        raise InvalidInput(N_("the decision was not recorded"), errors=errors.errors)
    if request.status != PENDING:
        raise Conflict(N_("this request was already decided: {status}"), status=request.status)
    return note.strip()


async def do_decide(session: AsyncSession, *, request: JoinRequest, status: str,
                    decided_by: str, rule: str, reason: str, at: datetime) -> JoinRequest:
    """Settle a pending request (staff, a payment, the timeout)."""
    request.status = status
    request.decided_by = decided_by
    request.rule = rule
    request.reason = reason
    request.decided_at = at
    request.waiting_for = ""
    await session.flush()
    return request


async def do_expire(session: AsyncSession, *, request: JoinRequest, at: datetime) -> bool:
    """The timeout: reject a request still pending; False if it was decided meanwhile."""
    if request.status != PENDING:
        return False
    await do_decide(session, request=request, status=EXPIRED, decided_by="timeout",
                    rule="timeout", reason=N_("no decision was made in time"), at=at)
    return True


async def unused_approval(session: AsyncSession, *, group_id: int,
                          person_id: int) -> JoinRequest | None:
    """An approval the person has not used to join yet (the platform's join follows it)."""
    return await session.scalar(select(JoinRequest).where(
        JoinRequest.group_id == group_id, JoinRequest.person_id == person_id,
        JoinRequest.status == APPROVED, JoinRequest.joined_at.is_(None))
        .order_by(JoinRequest.id.desc()).limit(1))


async def do_mark_joined(session: AsyncSession, *, request: JoinRequest, membership_id: int | None,
                         at: datetime) -> None:
    """The approved applicant is inside: use the approval, credit the code's owner."""
    request.joined_at = at
    if request.code_id is not None and membership_id is not None:
        owner = await session.scalar(select(InviteCode.owner_person_id)
                                     .where(InviteCode.id == request.code_id))
        if owner is not None:
            await session.execute(update(Membership).where(
                Membership.id == membership_id, Membership.inviter_person_id.is_(None))
                .values(inviter_person_id=owner))
    await session.flush()


async def open_membership(session: AsyncSession, *, group_id: int,
                          person_id: int) -> int | None:
    found = await session.scalar(select(Membership.id).where(
        Membership.group_id == group_id, Membership.person_id == person_id,
        Membership.status == MEMBERSHIP_ACTIVE))
    return int(found) if found is not None else None
