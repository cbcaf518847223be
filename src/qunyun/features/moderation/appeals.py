"""Appeals (申诉): a member writes "申诉 <reason>" (or "appeal <reason>") to the bot in private;
the appeal is opened against the member's latest case that still stands, and staff decide it on
the dashboard.

Upholding an appeal overturns the case (the moderation service undoes its effects and returns
the actions that do so); rejecting it lets the case stand. Either way the member is told in
private and the decision is audited. The actions of a decision leave through the pipeline: the
dashboard schedules a job of the moderation feature (`DECIDED_JOB`, due at once) carrying them,
and `run_decided_job` emits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import ACT, Principal, access_group
from qunyun.community.audit import do_record
from qunyun.community.models import Group, Organization, Person
from qunyun.core.actions import ActionRequest, send_private
from qunyun.core.errors import Conflict, ErrorCollector, InvalidInput, NotFound
from qunyun.core.features import FeatureContext, JobRequest
from qunyun.core.i18n import N_, gettext
from qunyun.features.moderation import service
from qunyun.features.moderation.appeal_models import DECISIONS, OPEN, UPHELD, ModerationAppeal
from qunyun.features.moderation.models import APPLIED, ModerationCase

COMMANDS = ("申诉", "appeal")
DECIDED_JOB = "appeal.decided"  # a job of the moderation feature: deliver a decision's actions
FLAG = "flag"  # review-only cases (nothing was done to the member): nothing to appeal
MAX_TEXT = 2000
MAX_NOTE = 1000
RULE_LABELS = {
    "banned_words": N_("banned words"), "contact": N_("contact details"), "links": N_("links"),
    "flood": N_("flooding"), "cross_group": N_("the same message in several groups"),
    "mention_all": N_("mentioning everyone"), "newcomer": N_("newcomer limits"),
    "regex": N_("a custom rule"), "classifier": N_("the spam filter"),
    "blacklist": N_("the blacklist"), "kick_chain": N_("the kick chain"),
}

ACTION_LABELS = {"delete": N_("message deleted"), "warn": N_("a warning"),
                 "kick": N_("removed from the group"), "block": N_("removed and blocked")}


def parse_appeal(text: str) -> str | None:
    """The member's reason when `text` is an appeal command ("" when none given), else None."""
    stripped = text.strip()
    for command in COMMANDS:
        head = stripped[:len(command)]
        if head.lower() == command:
            rest = stripped[len(command):]
            if rest and command.isascii() and rest[0].isalnum():
                continue  # "appealing" is not the command
            return rest.strip(" \t\n:：,，")[:MAX_TEXT]
    return None


def action_label(action: str, locale: str) -> str:
    """A case's action ("delete+mute:600") as the member reads it."""
    parts = []
    for part in action.split("+"):
        kind, _, value = part.partition(":")
        if kind == "mute" and value.isdigit():
            parts.append(gettext("muted for {minutes} minutes", locale,
                                 minutes=max(1, int(value) // 60)))
        else:
            label = ACTION_LABELS.get(kind)
            parts.append(gettext(label, locale) if label else part)
    return ", ".join(parts)


def rule_label(rule: str, locale: str) -> str:
    label = RULE_LABELS.get(rule)
    return gettext(label, locale) if label else rule


async def latest_case(session: AsyncSession, *, person_id: int) -> ModerationCase | None:
    """The member's newest case that still stands and did something to them."""
    case: ModerationCase | None = await session.scalar(
        select(ModerationCase).where(ModerationCase.person_id == person_id,
                                     ModerationCase.status == APPLIED,
                                     ModerationCase.action != FLAG)
        .order_by(ModerationCase.at.desc(), ModerationCase.id.desc()).limit(1))
    return case


async def _locale(session: AsyncSession, org_id: int) -> str:
    language = await session.scalar(select(Organization.language)
                                    .where(Organization.id == org_id))
    return language or "zh_CN"


# --- the member's side: a private message -------------------------------------------------------

async def handle_private(ctx: FeatureContext) -> None:
    """`message.private`: open an appeal when the text is one, and answer in private."""
    event = ctx.event
    if event is None or ctx.member is None or event.member is None:
        return
    reason = parse_appeal(str(event.data.get("text", "")))
    if reason is None:
        return
    org_id = await ctx.session.scalar(select(Person.org_id)
                                      .where(Person.id == ctx.member.person_id))
    if org_id is None:
        return
    locale = await _locale(ctx.session, org_id)
    reply = await _open(ctx.session, org_id=org_id, person_id=ctx.member.person_id,
                        platform=event.platform, member=event.member, event_id=event.id,
                        text=reason, at=ctx.now, locale=locale)
    ctx.emit(send_private(event.member, reply))


async def _open(session: AsyncSession, *, org_id: int, person_id: int, platform: str,
                member: str, event_id: str, text: str, at: datetime, locale: str) -> str:
    """Open the appeal if there is something to appeal; the reply to the member either way."""
    case = await latest_case(session, person_id=person_id)
    if case is None:
        return gettext("You have nothing to appeal: no action against you stands. To appeal, "
                       "write 申诉 and your reason after an action was taken.", locale)
    existing = await session.scalar(select(ModerationAppeal).where(
        ModerationAppeal.case_id == case.id).order_by(ModerationAppeal.id.desc()).limit(1))
    if existing is not None:
        message = N_("Your appeal #{id} is already with our staff; you will get their answer "
                     "here.") if existing.status == OPEN else \
            N_("Your appeal #{id} about this action was already decided; the decision is final.")
        return gettext(message, locale, id=existing.id)
    appeal = ModerationAppeal(org_id=org_id, case_id=case.id, person_id=person_id,
                              platform=platform, member=member, event_id=event_id, text=text,
                              status=OPEN, opened_at=at, note="")
    try:
        async with session.begin_nested():
            session.add(appeal)
    except IntegrityError:  # the same case appealed at the same moment from elsewhere
        return gettext("Your appeal about this action is already with our staff.", locale)
    return gettext("We received your appeal #{id} about the action of {date} ({action}, rule: "
                   "{rule}). Our staff will look at it and answer here. If they agree with "
                   "you, the action is undone.", locale, id=appeal.id,
                   date=case.at.date().isoformat(), action=action_label(case.action, locale),
                   rule=rule_label(case.rule, locale))


# --- the staff side: the queue and decisions --------------------------------------------------

@dataclass(frozen=True, slots=True)
class AppealRow:
    appeal: ModerationAppeal
    case: ModerationCase
    member_name: str
    group_name: str


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Appeals of cases in the principal's groups; cases of no group for whole-org viewers."""
    no_group = ModerationCase.group_id.is_(None) if principal.scope.whole_org else false()
    return and_(ModerationAppeal.org_id == principal.org_id,
                or_(no_group, and_(Group.id.is_not(None), principal.group_clause())))


async def list_appeals(session: AsyncSession, *, principal: Principal, status: str,
                       limit: int = 50, offset: int = 0) -> tuple[list[AppealRow], int]:
    """Open appeals oldest first (the queue), or decided ones newest first."""
    where = [_visible(principal), ModerationAppeal.status == OPEN if status == OPEN
             else ModerationAppeal.status != OPEN]
    base = (select(ModerationAppeal, ModerationCase, Person.display_name, Group.name)
            .join(ModerationCase, ModerationCase.id == ModerationAppeal.case_id)
            .join(Person, Person.id == ModerationAppeal.person_id)
            .outerjoin(Group, Group.id == ModerationCase.group_id).where(*where))
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    order = ModerationAppeal.id.asc() if status == OPEN else ModerationAppeal.decided_at.desc()
    rows = (await session.execute(base.order_by(order).limit(limit).offset(offset))).all()
    return [AppealRow(a, c, name, group or "") for a, c, name, group in rows], int(total or 0)


async def get_appeal(session: AsyncSession, *, principal: Principal,
                     appeal_id: int) -> AppealRow:
    row = (await session.execute(
        select(ModerationAppeal, ModerationCase, Person.display_name, Group.name)
        .join(ModerationCase, ModerationCase.id == ModerationAppeal.case_id)
        .join(Person, Person.id == ModerationAppeal.person_id)
        .outerjoin(Group, Group.id == ModerationCase.group_id)
        .where(_visible(principal), ModerationAppeal.id == appeal_id))).first()
    if row is None:
        raise NotFound(N_("no such appeal: {id}"), id=appeal_id)
    appeal, case, name, group = row
    return AppealRow(appeal, case, name, group or "")


def check_decision(*, decision: str, note: str) -> str:
    errors = ErrorCollector()
    if decision not in DECISIONS:
        errors.add("decision", "must be one of: {choices}", choices=", ".join(DECISIONS))
    cleaned = note.strip()
    if len(cleaned) > MAX_NOTE:
        errors.add("note", "must be at most {limit} characters", limit=MAX_NOTE)
    if errors:
        raise InvalidInput(N_("the decision is not valid"), errors=errors.errors)
    return cleaned


def _decision_notice(appeal: ModerationAppeal, case: ModerationCase, note: str,
                     locale: str) -> str:
    removed = any(part in ("kick", "block") for part in case.action.split("+"))
    if appeal.status == UPHELD and removed:
        text = gettext("Your appeal #{id} was accepted: the action against you is cancelled "
                       "and you are welcome to join the group again. Sorry for the trouble.",
                       locale, id=appeal.id)
    elif appeal.status == UPHELD:
        text = gettext("Your appeal #{id} was accepted: the action against you is undone. "
                       "Sorry for the trouble.", locale, id=appeal.id)
    else:
        text = gettext("Your appeal #{id} was reviewed and the action stands.", locale,
                       id=appeal.id)
    return text + ("\n" + gettext("Note from our staff: {note}", locale, note=note)
                   if note else "")


async def do_decide(session: AsyncSession, *, principal: Principal, appeal_id: int,
                    decision: str, note: str, at: datetime) -> list[ActionRequest]:
    """Decide an open appeal (ACT on the case's group); the actions to deliver: the undoing of
    an overturned case, then the private notice to the member."""
    cleaned = check_decision(decision=decision, note=note)
    row = await get_appeal(session, principal=principal, appeal_id=appeal_id)
    appeal, case = row.appeal, row.case
    if case.group_id is not None:
        await access_group(session, principal, case.group_id, ACT)
    else:
        principal.require(ACT)
    if appeal.status != OPEN:
        raise Conflict(N_("this appeal was already decided"))
    actions: list[ActionRequest] = []
    if decision == UPHELD:
        actions.extend(await service.do_undo_case(session, case_id=case.id,
                                                  actor=f"appeal:{appeal.id}", at=at,
                                                  overturned=True))
    appeal.status, appeal.decided_at, appeal.decided_by, appeal.note = \
        decision, at, principal.actor, cleaned
    await session.flush()
    await do_record(session, principal=principal, action=f"appeal.{decision}",
                    target_type="moderation_appeal", target_id=appeal.id,
                    before={"status": OPEN, "case_id": case.id, "case_status": APPLIED},
                    after={"status": decision, "note": cleaned, "case_id": case.id}, at=at)
    locale = await _locale(session, appeal.org_id)
    actions.append(send_private(appeal.member, _decision_notice(appeal, case, cleaned, locale)))
    return actions


# --- delivering a decision's actions through the pipeline --------------------------------------

def decided_job(appeal: ModerationAppeal, actions: list[ActionRequest], at: datetime
                ) -> JobRequest:
    """The job (of the moderation feature, due at `at`) that delivers a decision's actions."""
    payload: dict[str, Any] = {"appeal_id": appeal.id, "actions": [
        {"type": a.type, "data": dict(a.data), "member": a.member, "group": a.group}
        for a in actions]}
    return JobRequest(DECIDED_JOB, at, payload, key=f"{DECIDED_JOB}:{appeal.id}")


async def run_decided_job(ctx: FeatureContext) -> None:
    """The moderation feature's handler of `DECIDED_JOB`: emit the decision's actions."""
    assert ctx.job is not None and ctx.job.kind == DECIDED_JOB
    for raw in ctx.job.payload.get("actions", []):
        ctx.emit(ActionRequest(str(raw["type"]), dict(raw.get("data") or {}),
                               member=raw.get("member"), group=raw.get("group")))
