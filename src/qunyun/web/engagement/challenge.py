"""Check-in challenges on the dashboard: the list, a form to create or edit one, and per
challenge its board and each day's check-ins.

Seeing needs VIEW on a group of the challenge's community. Creating and editing need CONFIGURE
and either the whole community in scope or, for a challenge limited to some groups, each of
those groups; changes carry the CSRF token and are audited. Saving schedules the next daily
reminder of every group the challenge runs in (each reminder schedules the next day's; so do
check-ins). A challenge is never deleted: archiving stops check-ins and reminders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.app.bootstrap import Runtime
from qunyun.community.access import CONFIGURE, VIEW, Principal
from qunyun.community.audit import do_record
from qunyun.community.models import Community, Group
from qunyun.community.roles import GROUP_ACTIVE
from qunyun.community.settings import GroupScope
from qunyun.core.errors import ErrorCollector, FieldError, Forbidden, InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.features.challenge import service
from qunyun.features.challenge.models import ACTIVE, ARCHIVED, PROOFS, Challenge
from qunyun.features.challenge.reminders import next_reminder, reminder_job
from qunyun.features.challenge.service import DEFAULT_KEYWORD, ChallengeSpec
from qunyun.pipeline.settings_cache import SettingsCache
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.staff_forms import field_messages, text
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Check-in challenges")
DESCRIPTION = N_("N-day challenges: define them, follow the board and every day's check-ins.")
BASE = "/engagement/challenge"
FEATURE = "challenge"
BOARD_SIZE = 200
PROOF_LABELS = {"none": N_("Keyword only"), "text": N_("With a note"),
                "image": N_("With a picture")}
STATUS_LABELS = {ACTIVE: N_("active"), ARCHIVED: N_("archived")}


@dataclass(slots=True)
class ChallengeForm:
    """The form as typed, with what is wrong with it (by field)."""

    name: str = ""
    community: str = ""
    groups: list[str] = field(default_factory=list)
    start_day: str = ""
    end_day: str = ""
    keyword: str = DEFAULT_KEYWORD
    proof: str = "none"
    reminder_hour: str = ""
    daily_points: str = "0"
    completion_points: str = "0"
    required_days: str = ""
    status: str = ACTIVE
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, c: Challenge) -> ChallengeForm:
        return cls(c.name, str(c.community_id), [str(g) for g in c.group_ids],
                   c.start_day.isoformat(), c.end_day.isoformat(), c.keyword, c.proof,
                   "" if c.reminder_hour is None else str(c.reminder_hour), str(c.daily_points),
                   str(c.completion_points),
                   "" if c.required_days is None else str(c.required_days), c.status)

    @classmethod
    def read(cls, submitted: FormData) -> ChallengeForm:
        def read(name: str) -> str:
            return text(submitted, name).strip()

        return cls(name=text(submitted, "name"), community=read("community"),
                   groups=[g for g in submitted.getlist("groups") if isinstance(g, str) and g],
                   start_day=read("start_day"), end_day=read("end_day"),
                   keyword=read("keyword"), proof=read("proof"),
                   reminder_hour=read("reminder_hour"), daily_points=read("daily_points"),
                   completion_points=read("completion_points"),
                   required_days=read("required_days"), status=read("status") or ACTIVE)


# --- who sees and changes what ----------------------------------------------------------------

async def _visible_groups(session: AsyncSession, principal: Principal) -> list[Group]:
    return list(await session.scalars(select(Group).where(
        principal.group_clause(), Group.community_id.is_not(None)).order_by(Group.name, Group.id)))


def _may_configure(principal: Principal, community_id: int, groups: list[Group]) -> bool:
    """CONFIGURE and the whole community in scope, or each chosen group."""
    scope = principal.scope
    if not principal.can(CONFIGURE):
        return False
    if scope.whole_org or community_id in scope.communities:
        return True
    return bool(groups) and all(scope.covers(g) for g in groups)


async def _access(session: AsyncSession, principal: Principal, challenge_id: int,
                  permission: str = VIEW) -> Challenge:
    challenge = await service.get_challenge(session, principal.org_id, challenge_id)
    if challenge is None:
        raise NotFound(N_("no such challenge: {id}"), id=challenge_id)
    visible = [g for g in await _visible_groups(session, principal)
               if g.community_id == challenge.community_id]
    principal.require(permission)
    if not visible or (permission == CONFIGURE and not _may_configure(
            principal, challenge.community_id, await _groups(session, challenge.group_ids))):
        raise Forbidden(N_("this challenge is outside your scope"))
    return challenge


async def _groups(session: AsyncSession, ids: list[int]) -> list[Group]:
    if not ids:
        return []
    return list(await session.scalars(select(Group).where(Group.id.in_(ids)).order_by(Group.id)))


# --- pages --------------------------------------------------------------------------------------

@router.get(BASE, response_class=HTMLResponse)
async def challenge_list(request: Request, viewer: ViewerDep,
                         session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    principal.require(VIEW)
    groups = await _visible_groups(session, principal)
    communities = {g.community_id for g in groups}
    rows = list(await session.scalars(select(Challenge).where(
        Challenge.org_id == principal.org_id,
        Challenge.community_id.in_(sorted(c for c in communities if c is not None)))
        .order_by(Challenge.start_day.desc(), Challenge.id.desc())))
    people = await service.participant_counts(session, [c.id for c in rows])
    names = {g.id: g.name for g in groups}
    return render_page(request, viewer, "engagement/challenge/list.html", {
        "challenges": rows, "people": people,
        "where": {c.id: "、".join(names[g] for g in c.group_ids if g in names) for c in rows},
        "community_names": await _community_names(session, principal.org_id),
        "may_create": principal.can(CONFIGURE) and bool(groups), "base": BASE,
        "status_labels": STATUS_LABELS, "today": viewer.today})


async def _community_names(session: AsyncSession, org_id: int) -> dict[int, str]:
    rows = await session.execute(select(Community.id, Community.name)
                                 .where(Community.org_id == org_id))
    return {cid: name for cid, name in rows}


@router.get(BASE + "/new", response_class=HTMLResponse)
async def new_challenge(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    viewer.principal.require(CONFIGURE)
    today = viewer.today.isoformat()
    return await _form_page(request, viewer, session, ChallengeForm(start_day=today,
                                                                    end_day=today))


@router.get(BASE + "/{challenge_id}/edit", response_class=HTMLResponse)
async def edit_challenge(challenge_id: int, request: Request, viewer: ViewerDep,
                         session: SessionDep) -> HTMLResponse:
    challenge = await _access(session, viewer.principal, challenge_id, CONFIGURE)
    return await _form_page(request, viewer, session, ChallengeForm.of(challenge), challenge)


async def _form_page(request: Request, viewer: Viewer, session: AsyncSession,
                     form: ChallengeForm, challenge: Challenge | None = None,
                     status: int = 200) -> HTMLResponse:
    groups = await _visible_groups(session, viewer.principal)
    names = await _community_names(session, viewer.principal.org_id)
    communities = sorted({g.community_id for g in groups if g.community_id is not None},
                         key=lambda c: (names.get(c, ""), c))
    return render_page(request, viewer, "engagement/challenge/form.html", {
        "form": form, "challenge": challenge, "groups": groups, "communities": communities,
        "community_names": names, "proofs": PROOFS, "proof_labels": PROOF_LABELS,
        "status_labels": STATUS_LABELS, "base": BASE}, status_code=status)


@router.get(BASE + "/{challenge_id}", response_class=HTMLResponse)
async def challenge_page(challenge_id: int, request: Request, viewer: ViewerDep,
                         session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    challenge = await _access(session, principal, challenge_id)
    visible = {g.id: g.name for g in await _visible_groups(session, principal)}
    counts = await service.daily_counts(session, challenge.id)
    last = min(challenge.end_day, max(viewer.today, challenge.start_day))
    day = _day(request.query_params.get("day")) or last
    checkins = [(c, name) for c, name in await service.checkins_on(session, challenge.id, day)
                if c.group_id in visible]
    targets = await _groups(session, challenge.group_ids)
    return render_page(request, viewer, "engagement/challenge/detail.html", {
        "challenge": challenge, "board": await service.board(session, challenge.id,
                                                             limit=BOARD_SIZE),
        "people": await service.participant_count(session, challenge.id),
        "days": [(d, counts.get(d, 0)) for d in _days(challenge.start_day, last)],
        "day": day, "checkins": checkins, "group_names": visible,
        "targets": [g.name for g in targets],
        "community": (await _community_names(session, principal.org_id)).get(
            challenge.community_id, ""),
        "editable": principal.can(CONFIGURE) and _may_configure(principal,
                                                                challenge.community_id,
                                                                targets),
        "proof_labels": PROOF_LABELS, "status_labels": STATUS_LABELS, "base": BASE,
        "today": viewer.today, "saved": request.query_params.get("saved") == "1"})


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _days(first: date, last: date) -> list[date]:
    return [date.fromordinal(n) for n in range(last.toordinal(), first.toordinal() - 1, -1)]


# --- changes ------------------------------------------------------------------------------------

def _spec(form: ChallengeForm, errors: ErrorCollector) -> ChallengeSpec | None:
    """The typed values as a spec; what cannot be read is added to `errors`."""
    days = {name: _day(getattr(form, name)) for name in ("start_day", "end_day")}
    for name, value in days.items():
        if value is None:
            errors.add(name, N_("must be a date like 2026-12-01"))
    numbers: dict[str, int | None] = {}
    for name in ("daily_points", "completion_points", "reminder_hour", "required_days"):
        raw = getattr(form, name)
        optional = name in ("reminder_hour", "required_days")
        if optional and not raw:
            numbers[name] = None
        elif raw.lstrip("-").isdigit():
            numbers[name] = int(raw)
        else:
            errors.add(name, "must be an integer")
    start, end = days["start_day"], days["end_day"]
    if start is None or end is None or len(numbers) < 4:
        return None
    return ChallengeSpec(
        name=form.name, start_day=start, end_day=end, keyword=form.keyword,
        group_ids=tuple(int(g) for g in form.groups if g.isdigit()), proof=form.proof,
        reminder_hour=numbers["reminder_hour"], daily_points=numbers["daily_points"] or 0,
        completion_points=numbers["completion_points"] or 0,
        required_days=numbers["required_days"], status=form.status)


async def _checked(session: AsyncSession, principal: Principal,
                   form: ChallengeForm) -> tuple[ChallengeSpec, int]:
    """The spec and its community, or InvalidInput naming every wrong field (Forbidden when
    the principal may not configure there)."""
    errors = ErrorCollector()
    spec = _spec(form, errors)
    visible = {g.id: g for g in await _visible_groups(session, principal)}
    community_id = int(form.community) if form.community.isdigit() else None
    if community_id not in {g.community_id for g in visible.values()}:
        errors.add("community", "is required")
    chosen = [visible.get(int(g)) for g in form.groups if g.isdigit()]
    if any(g is None or g.community_id != community_id for g in chosen) or \
            len(chosen) != len(form.groups):
        errors.add("groups", N_("choose groups of the chosen community"))
    if spec is not None:
        try:
            service.check_challenge(spec)
        except InvalidInput as exc:
            errors.errors.extend(exc.errors)
    if errors or spec is None or community_id is None:
        raise InvalidInput(N_("the challenge is not valid"), errors=errors.errors)
    if not _may_configure(principal, community_id, [g for g in chosen if g is not None]):
        raise Forbidden(N_("this challenge is outside your scope"))
    return spec, community_id


@router.post(BASE, response_class=HTMLResponse)
async def create_challenge(request: Request, viewer: ViewerDep, session: SessionDep,
                           runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    principal.require(CONFIGURE)
    form = ChallengeForm.read(await request.form())
    try:
        spec, community_id = await _checked(session, principal, form)
    except InvalidInput as exc:
        form.errors = field_messages(exc, viewer.locale)
        return await _form_page(request, viewer, session, form, status=422)
    now = runtime.clock.now()
    challenge = await service.do_create_challenge(session, org_id=principal.org_id,
                                                  community_id=community_id, spec=spec,
                                                  actor=principal.actor, at=now)
    await _after_save(session, runtime, principal, challenge, None, "challenge.create")
    return RedirectResponse(f"{BASE}/{challenge.id}?saved=1", status_code=303)


@router.post(BASE + "/{challenge_id}", response_class=HTMLResponse)
async def update_challenge(challenge_id: int, request: Request, viewer: ViewerDep,
                           session: SessionDep, runtime: RuntimeDep,
                           _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    challenge = await _access(session, principal, challenge_id, CONFIGURE)
    form = ChallengeForm.read(await request.form())
    try:
        spec, community_id = await _checked(session, principal, form)
        if community_id != challenge.community_id:
            raise InvalidInput(N_("the challenge is not valid"), errors=[FieldError(
                "community", N_("a challenge cannot move to another community"))])
    except InvalidInput as exc:
        form.errors = field_messages(exc, viewer.locale)
        return await _form_page(request, viewer, session, form, challenge, status=422)
    before = _document(challenge)
    await service.do_update_challenge(session, challenge=challenge, spec=spec,
                                      at=runtime.clock.now())
    await _after_save(session, runtime, principal, challenge, before, "challenge.update")
    return RedirectResponse(f"{BASE}/{challenge.id}?saved=1", status_code=303)


async def _after_save(session: AsyncSession, runtime: Runtime, principal: Principal,
                      challenge: Challenge, before: dict[str, Any] | None, action: str) -> None:
    """Schedule the next reminder in each of its groups, audit, commit."""
    if challenge.status == ACTIVE and challenge.reminder_hour is not None:
        await _schedule_reminders(session, runtime, challenge)
    await do_record(session, principal=principal, action=action, target_type="challenge",
                    target_id=challenge.id, before=before, after=_document(challenge),
                    at=runtime.clock.now())
    await session.commit()
    runtime.pipeline.scheduler.forget()  # it caches the next due time; ours are new


async def _schedule_reminders(session: AsyncSession, runtime: Runtime,
                              challenge: Challenge) -> None:
    assert challenge.reminder_hour is not None
    query = select(Group).where(Group.org_id == challenge.org_id, Group.status == GROUP_ACTIVE,
                                Group.community_id == challenge.community_id)
    if challenge.group_ids:
        query = query.where(Group.id.in_(challenge.group_ids))
    cache = SettingsCache(runtime.registry)
    await cache.refresh(session, challenge.org_id)
    now = runtime.clock.now()
    for group in await session.scalars(query):
        timezone = cache.for_group(GroupScope(group.org_id, group.community_id,
                                              group.playbook_id, group.id)).community.timezone
        found = next_reminder(start_day=challenge.start_day, end_day=challenge.end_day,
                              hour=challenge.reminder_hour, timezone=timezone, after=now)
        if found is not None:
            day, due = found
            await runtime.pipeline.scheduler.add(
                session, org_id=group.org_id, group_id=group.id, feature=FEATURE,
                request=reminder_job(challenge_id=challenge.id, group_id=group.id, day=day,
                                     hour=challenge.reminder_hour, due=due),
                caused_by=f"dashboard:challenge:{challenge.id}")


def _document(c: Challenge) -> dict[str, Any]:
    return {"name": c.name, "community_id": c.community_id, "group_ids": list(c.group_ids),
            "start_day": c.start_day.isoformat(), "end_day": c.end_day.isoformat(),
            "keyword": c.keyword, "proof": c.proof, "reminder_hour": c.reminder_hour,
            "daily_points": c.daily_points, "completion_points": c.completion_points,
            "required_days": c.required_days, "status": c.status}
