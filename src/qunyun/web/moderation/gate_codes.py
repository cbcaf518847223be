"""Invite codes of the entry gates (邀请码): create one for a group (with an owner the newcomers
are credited to, a limit of uses and an expiry), see its uses and who joined with it, revoke it.
Creating and revoking need ACT on the group and the CSRF token and are audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.community.access import ACT, VIEW, Principal, access_group
from qunyun.community.audit import do_record
from qunyun.community.models import Group, Person, PlatformAccount
from qunyun.community.roles import GROUP_ACTIVE
from qunyun.core.errors import ErrorCollector, InvalidInput, QunyunError
from qunyun.core.i18n import N_
from qunyun.features.gate import codes
from qunyun.features.gate.models import InviteCode
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.staff_forms import field_messages, text
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Invite codes")
DESCRIPTION = N_("Codes that let newcomers into groups with the invite-code gate: limits, "
                 "expiry, who joined with each, revocation.")
BASE = "/moderation/gate_codes"
HREF = BASE
MAX_DAYS = 3650


@dataclass(slots=True)
class CodeForm:
    group: str = ""
    code: str = ""
    owner: str = ""
    max_uses: str = ""
    days: str = ""
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)


async def _visible_codes(session: AsyncSession, principal: Principal) -> list[tuple[InviteCode,
                                                                                    str]]:
    rows = await session.execute(
        select(InviteCode, Group.name).outerjoin(Group, Group.id == InviteCode.group_id)
        .where(InviteCode.org_id == principal.org_id,
               InviteCode.group_id.is_(None) | principal.group_clause())
        .order_by(InviteCode.id.desc()).limit(500))
    return [(code, name or "") for code, name in rows]


async def _owners(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Person.id, Person.display_name)
                                 .where(Person.id.in_(ids)))
    return {int(pid): name for pid, name in rows}


async def _page(request: Request, viewer: Viewer, session: AsyncSession, runtime_now: datetime,
                form: CodeForm | None = None, status_code: int = 200) -> HTMLResponse:
    principal = viewer.principal
    found = await _visible_codes(session, principal)
    groups = list(await session.scalars(
        select(Group).where(principal.group_clause(), Group.status == GROUP_ACTIVE,
                            Group.community_id.is_not(None)).order_by(Group.name, Group.id))
                  ) if principal.can(ACT) else []
    owners = await _owners(session, [c.owner_person_id for c, _ in found if c.owner_person_id])
    return render_page(request, viewer, "moderation/gate_codes.html", {
        "codes": found, "owners": owners, "groups": groups, "form": form or CodeForm(),
        "now": runtime_now, "base": BASE,
        "joined": await codes.approved_counts(session, code_ids=[c.id for c, _ in found]),
    }, status_code=status_code)


@router.get(BASE, response_class=HTMLResponse)
async def codes_page(request: Request, viewer: ViewerDep, session: SessionDep,
                     runtime: RuntimeDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    return await _page(request, viewer, session, runtime.clock.now())


@router.get(BASE + "/{code_id}", response_class=HTMLResponse)
async def code_page(code_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                    runtime: RuntimeDep) -> HTMLResponse:
    principal = viewer.principal
    code = await codes.get_code(session, org_id=principal.org_id, code_id=code_id)
    group = await access_group(session, principal, code.group_id, VIEW) if code.group_id \
        else None
    owners = await _owners(session, [code.owner_person_id] if code.owner_person_id else [])
    return render_page(request, viewer, "moderation/gate_codes_detail.html", {
        "code": code, "group": group, "owner": owners.get(code.owner_person_id or 0, ""),
        "entries": await codes.joined_with(session, code_id=code.id), "base": BASE,
        "now": runtime.clock.now()})


def _positive(raw: str, name: str, limit: int, errors: ErrorCollector) -> int | None:
    value = raw.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= limit:
        errors.add(name, "must be between {low} and {high}", low=1, high=limit)
        return None
    return int(value)


async def _owner(session: AsyncSession, group: Group, raw: str,
                 errors: ErrorCollector) -> int | None:
    """The owner by platform user id in the group's platform (empty: the code has none)."""
    if not raw.strip():
        return None
    found = await session.scalar(select(PlatformAccount.person_id).where(
        PlatformAccount.org_id == group.org_id, PlatformAccount.platform == group.platform,
        PlatformAccount.platform_user_id == raw.strip()))
    if found is None:
        errors.add("owner", N_("no member with this id on the group's platform"))
    return int(found) if found is not None else None


@router.post(BASE + "/create", response_class=HTMLResponse)
async def create_code(request: Request, viewer: ViewerDep, session: SessionDep,
                      runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    principal.require(ACT)
    submitted = await request.form()
    form = CodeForm(group=text(submitted, "group"), code=text(submitted, "code"),
                    owner=text(submitted, "owner"), max_uses=text(submitted, "max_uses"),
                    days=text(submitted, "days"), note=text(submitted, "note"))
    now = runtime.clock.now()
    errors = ErrorCollector()
    if not form.group.strip().isdigit():
        errors.add("group", "is required")
        form.errors = field_messages(InvalidInput("", errors=errors.errors), viewer.locale)
        return await _page(request, viewer, session, now, form, 422)
    group = await access_group(session, principal, int(form.group), ACT)
    max_uses = _positive(form.max_uses, "max_uses", codes.MAX_USES, errors)
    days = _positive(form.days, "days", MAX_DAYS, errors)
    owner = await _owner(session, group, form.owner, errors)
    try:
        value = codes.check_code(code=form.code, max_uses=max_uses, note=form.note.strip(),
                                 expires_at=now + timedelta(days=days) if days else None, at=now)
        if errors or group.community_id is None:
            raise InvalidInput(N_("the invite code was not created"), errors=errors.errors)
        made = await codes.do_create_code(session, org_id=principal.org_id, spec=codes.CodeSpec(
            value, group.community_id, group.id, owner, form.note.strip(), max_uses,
            now + timedelta(days=days) if days else None), created_by=principal.actor, at=now)
    except QunyunError as exc:
        exc.errors = [*errors.errors, *(e for e in exc.errors if e not in errors.errors)]
        form.errors = field_messages(exc, viewer.locale) or {"": exc.render(viewer.locale)}
        return await _page(request, viewer, session, now, form, exc.status)
    await do_record(session, principal=principal, action="gate.code.create",
                    target_type="invite_code", target_id=made.id, before=None,
                    after={"code": made.code, "group_id": group.id, "max_uses": max_uses,
                           "expires_at": made.expires_at.isoformat() if made.expires_at
                           else None, "owner_person_id": owner}, at=now)
    await session.commit()
    return RedirectResponse(f"{BASE}/{made.id}", status_code=303)


@router.post(BASE + "/{code_id}/revoke", response_class=HTMLResponse)
async def revoke_code(code_id: int, viewer: ViewerDep, session: SessionDep,
                      runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    principal.require(ACT)
    code = await codes.get_code(session, org_id=principal.org_id, code_id=code_id)
    if code.group_id is not None:
        await access_group(session, principal, code.group_id, ACT)
    was = code.revoked_at
    await codes.do_revoke(session, org_id=principal.org_id, code_id=code_id,
                          at=runtime.clock.now())
    if was is None:
        await do_record(session, principal=principal, action="gate.code.revoke",
                        target_type="invite_code", target_id=code.id,
                        before={"revoked": False}, after={"revoked": True},
                        at=runtime.clock.now())
    await session.commit()
    return RedirectResponse(f"{BASE}/{code.id}", status_code=303)
