"""Events and jobs → the gate's decisions → actions.

- `member.join_requested`: decide at once (approve / reject) or keep it pending (the approval
  queue, a payment); the same request twice is answered once.
- `member.joined`: a join the gate approved uses its approval; a join nobody asked about (the
  platform cannot hold requests) is decided afterwards: a rejection removes the member and stops
  the features after the gate (no welcome, no points). Newcomers who are in get their number.
- `payment.completed`: kept as an entitlement; it approves the payer's pending paid request, or
  lets their next request or join through.
- jobs: `timeout` (a request still pending expires), `decision` (a staff decision made on the
  dashboard reaches the chat).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from qunyun.community.models import Community, Group, Organization, Person
from qunyun.core import events as E
from qunyun.core.commands import matches
from qunyun.core.features import FeatureContext
from qunyun.features.gate import service
from qunyun.features.gate.models import (
    APPROVED,
    FROM_JOIN,
    FROM_REQUEST,
    PENDING,
    REJECTED,
    JoinRequest,
)
from qunyun.features.gate.numbering import do_assign_number, do_stamp_membership
from qunyun.features.gate.questionnaire import collect_answers
from qunyun.features.gate.replies import invite_link_request, outcome_actions
from qunyun.features.gate.settings import GateSettings

TIMEOUT = "timeout"
DECISION = "decision"


async def handle(ctx: FeatureContext) -> None:
    event = ctx.event
    if event is None or ctx.member is None:
        return
    if event.type == E.PAYMENT_COMPLETED:
        await _on_payment(ctx)
    elif ctx.group is None:
        return
    elif event.type == E.MEMBER_JOIN_REQUESTED:
        await _on_request(ctx)
    elif event.type == E.MEMBER_JOINED:
        await _on_joined(ctx)
    elif event.type == E.MESSAGE_POSTED:
        _on_message(ctx)


def _on_message(ctx: FeatureContext) -> None:
    """`邀请链接`: the member's personal invite link; joins through it name them as inviter."""
    assert ctx.event is not None and ctx.group is not None
    settings: GateSettings = ctx.settings
    text = ctx.event.data.get("text") or ""
    if ctx.event.member and settings.invite_link_keywords \
            and matches(text, settings.invite_link_keywords):
        ctx.emit(invite_link_request(member=ctx.event.member, group=ctx.group.name,
                                     locale=ctx.locale))


def _applicant(ctx: FeatureContext, source: str, request_id: str) -> service.Applicant:
    assert ctx.event is not None and ctx.member is not None
    data = ctx.event.data
    settings: GateSettings = ctx.settings
    comment = str(data.get("comment") or "")
    return service.Applicant(
        person_id=ctx.member.person_id, member=str(ctx.event.member), request_id=request_id,
        source=source, event_id=ctx.event.id, name=str(data.get("name") or ""), comment=comment,
        answers=collect_answers(settings, data.get("answers") or {}, comment),
        inviter=data.get("inviter"), via=data.get("via"), code=data.get("code"))


def _answer(ctx: FeatureContext, request: JoinRequest, *, private: bool) -> None:
    assert ctx.group is not None
    for action in outcome_actions(request, group=ctx.group.name, group_platform_id=None,
                                  locale=ctx.locale, private=private):
        ctx.emit(action)


def _schedule_timeout(ctx: FeatureContext, request: JoinRequest) -> None:
    if request.status == PENDING and request.expires_at is not None:
        ctx.schedule(TIMEOUT, request.expires_at, {"request": request.id},
                     key=f"{TIMEOUT}:{request.id}")


async def _on_request(ctx: FeatureContext) -> None:
    assert ctx.event is not None and ctx.group is not None
    request_id = str(ctx.event.data["request_id"])
    if await service.find_request(ctx.session, group_id=ctx.group.id,
                                  request_id=request_id) is not None:
        return  # the platform asked again about a request already answered
    applicant = _applicant(ctx, FROM_REQUEST, request_id)
    decision = await service.decide(ctx.session, group=ctx.group, settings=ctx.settings,
                                    applicant=applicant, at=ctx.now)
    request = await service.do_open_request(ctx.session, group=ctx.group, settings=ctx.settings,
                                            applicant=applicant, decision=decision, at=ctx.now)
    _answer(ctx, request, private=ctx.settings.reply_private)
    _schedule_timeout(ctx, request)


async def _on_joined(ctx: FeatureContext) -> None:
    assert ctx.event is not None and ctx.group is not None and ctx.member is not None
    member = ctx.member
    if not member.new_membership or member.membership_id is None:
        return  # a join qunyun already knew of
    approval = await service.unused_approval(ctx.session, group_id=ctx.group.id,
                                             person_id=member.person_id)
    if approval is not None:
        await service.do_mark_joined(ctx.session, request=approval,
                                     membership_id=member.membership_id, at=ctx.now)
        await _give_number(ctx, member.membership_id, member.person_id)
        return
    applicant = _applicant(ctx, FROM_JOIN, f"join:{ctx.event.id}"[:200])
    decision = await service.decide(ctx.session, group=ctx.group, settings=ctx.settings,
                                    applicant=applicant, at=ctx.now)
    if decision.status == APPROVED and decision.rule == "open":
        await _give_number(ctx, member.membership_id, member.person_id)
        return
    request = await service.do_open_request(ctx.session, group=ctx.group, settings=ctx.settings,
                                            applicant=applicant, decision=decision, at=ctx.now)
    if request.status == APPROVED:
        await service.do_mark_joined(ctx.session, request=request,
                                     membership_id=member.membership_id, at=ctx.now)
        await _give_number(ctx, member.membership_id, member.person_id)
        return
    _answer(ctx, request, private=ctx.settings.reply_private)
    _schedule_timeout(ctx, request)
    if request.status == REJECTED:
        ctx.stop()  # removed: no welcome, no points for this join


async def _give_number(ctx: FeatureContext, membership_id: int, person_id: int) -> None:
    assert ctx.group is not None
    if not ctx.settings.numbering or ctx.group.community_id is None:
        return
    number = await do_assign_number(ctx.session, community_id=ctx.group.community_id,
                                    person_id=person_id, at=ctx.now)
    await do_stamp_membership(ctx.session, membership_id=membership_id, number=number)
    if ctx.member is not None and ctx.member.person_id == person_id:
        ctx.member = dataclasses.replace(ctx.member, member_no=number)


# --- payments -----------------------------------------------------------------------------

async def group_language(ctx: FeatureContext, group: Group) -> str:
    """The group's language without its settings (a payment belongs to no group)."""
    language = await ctx.session.scalar(select(Community.language)
                                        .where(Community.id == group.community_id))
    if not language:
        language = await ctx.session.scalar(select(Organization.language)
                                            .where(Organization.id == group.org_id))
    return str(language or "zh_CN")


async def _on_payment(ctx: FeatureContext) -> None:
    assert ctx.event is not None and ctx.member is not None
    person_id = ctx.member.person_id
    org_id = await ctx.session.scalar(select(Person.org_id).where(Person.id == person_id))
    if org_id is None:
        return
    data: dict[str, Any] = dict(ctx.event.data)
    entitlement = await service.do_record_payment(
        ctx.session, org_id=int(org_id), person_id=person_id, platform=ctx.event.platform,
        data=data, at=ctx.now)
    if entitlement is None:
        return  # the same order again
    waiting = await service.waiting_for_payment(ctx.session, org_id=int(org_id),
                                                person_id=person_id)
    groups = {r.group_id: await ctx.session.get(Group, r.group_id) for r in waiting}
    # Actions leave through the payment's platform: only its groups can be answered.
    here = [r for r in waiting if (g := groups[r.group_id]) and g.platform == ctx.event.platform]
    request = await service.do_unlock_with(ctx.session, entitlement=entitlement, requests=here,
                                           at=ctx.now)
    group = groups.get(request.group_id) if request else None
    if request is None or group is None:
        return
    if request.source == FROM_JOIN:
        membership = await service.open_membership(ctx.session, group_id=group.id,
                                                   person_id=person_id)
        await service.do_mark_joined(ctx.session, request=request, membership_id=membership,
                                     at=ctx.now)
        if membership is not None and request.numbering and group.community_id is not None:
            number = await do_assign_number(ctx.session, community_id=group.community_id,
                                            person_id=person_id, at=ctx.now)
            await do_stamp_membership(ctx.session, membership_id=membership, number=number)
    for action in outcome_actions(request, group=group.name, group_platform_id=group.platform_id,
                                  locale=await group_language(ctx, group), private=True):
        ctx.emit(action)


# --- jobs -----------------------------------------------------------------------------------

async def on_job(ctx: FeatureContext) -> None:
    job = ctx.job
    if job is None or ctx.group is None:
        return
    request = await ctx.session.get(JoinRequest, int(job.payload.get("request", 0)))
    if request is None or request.group_id != ctx.group.id:
        return
    settings: GateSettings = ctx.settings
    if job.kind == TIMEOUT:
        if settings.on_timeout == "keep" or not await service.do_expire(
                ctx.session, request=request, at=ctx.now):
            return
    elif job.kind == DECISION:
        if request.status == APPROVED and request.source == FROM_JOIN:
            membership = await service.open_membership(ctx.session, group_id=ctx.group.id,
                                                       person_id=request.person_id)
            await service.do_mark_joined(ctx.session, request=request,
                                         membership_id=membership, at=ctx.now)
            if membership is not None:
                await _give_number(ctx, membership, request.person_id)
    else:
        return
    _answer(ctx, request, private=settings.reply_private)
