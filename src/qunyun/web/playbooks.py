"""Playbooks: the stored ones; an editor for the TOML text that validates it (every error with
its key path), previews what it would change in the chosen groups, and applies it.

Applying needs the CONFIGURE permission, changes only groups inside the principal's scope (also
those already following the playbook) and is audited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.community.access import CONFIGURE, VIEW, Principal
from qunyun.community.audit import do_record
from qunyun.community.models import Group, Playbook
from qunyun.community.roles import GROUP_ACTIVE, PURPOSES
from qunyun.core.errors import FieldError, Forbidden, NotFound
from qunyun.pipeline.playbook import diff_playbook, do_apply_playbook
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.overview_data import facets
from qunyun.web.playbook_forms import (
    PlaybookForm,
    check_followers_in_scope,
    check_source,
    selected_groups,
)
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)


@router.get("/playbooks", response_class=HTMLResponse)
async def playbook_list(request: Request, viewer: ViewerDep,
                        session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    principal.require(VIEW)
    rows = await session.execute(
        select(Playbook, func.count(Group.id))
        .outerjoin(Group, (Group.playbook_id == Playbook.id) & principal.group_clause())
        .where(Playbook.org_id == principal.org_id)
        .group_by(Playbook.id).order_by(Playbook.name))
    return render_page(request, viewer, "playbooks/list.html",
                       {"playbooks": [(p, int(n)) for p, n in rows]})


async def _choices(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    options = await facets(session, principal)
    groups = (await session.execute(
        select(Group.id, Group.name, Group.store)
        .where(principal.group_clause(), Group.status == GROUP_ACTIVE)
        .order_by(Group.name, Group.id))).all()
    return {"communities": options.communities, "tags": options.tags, "purposes": PURPOSES,
            "groups": groups}


async def _editor(request: Request, viewer: Viewer, session: AsyncSession, form: PlaybookForm,
                  *, playbook: Playbook | None = None, status_code: int = 200,
                  **context: Any) -> HTMLResponse:
    values = {"form": form, "playbook": playbook, "diffs": None, "applied": None,
              **await _choices(session, viewer.principal), **context}
    return render_page(request, viewer, "playbooks/edit.html", values, status_code=status_code)


@router.get("/playbooks/new", response_class=HTMLResponse)
async def new_playbook(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    return await _editor(request, viewer, session, PlaybookForm())


@router.get("/playbooks/{playbook_id}", response_class=HTMLResponse)
async def edit_playbook(playbook_id: int, request: Request, viewer: ViewerDep,
                        session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    playbook = await session.scalar(select(Playbook).where(
        Playbook.org_id == viewer.principal.org_id, Playbook.id == playbook_id))
    if playbook is None:
        raise NotFound("no such playbook: {id}", id=playbook_id)
    applied = request.query_params.get("applied")
    return await _editor(request, viewer, session, PlaybookForm(source=playbook.source),
                         playbook=playbook, applied=int(applied) if applied and
                         applied.isdigit() else None)


async def _read(request: Request) -> PlaybookForm:
    submitted = await request.form()
    fields = {k: v for k, v in submitted.items() if isinstance(v, str)}
    return PlaybookForm.read(fields, [g for g in submitted.getlist("groups")
                                      if isinstance(g, str)])


@router.post("/playbooks/preview", response_class=HTMLResponse)
async def preview_playbook(request: Request, viewer: ViewerDep, session: SessionDep,
                           runtime: RuntimeDep, _csrf: VerifiedCsrf) -> HTMLResponse:
    """Validate the text; if valid and groups are chosen, show what applying would change."""
    principal = viewer.principal
    principal.require(VIEW)
    form = await _read(request)
    spec = check_source(form, runtime.registry)
    ids = await selected_groups(session, principal, form)
    diffs = None
    if spec is not None and ids:
        try:
            await check_followers_in_scope(session, principal, spec.name)
        except Forbidden as exc:
            form.selection_error = FieldError("", exc.message)
        diffs = [d for d in await diff_playbook(session, runtime.registry,
                                                org_id=principal.org_id, spec=spec,
                                                group_ids=ids)
                 if d.selected or form.selection_error is None]
    failed = bool(form.errors)
    return await _editor(request, viewer, session, form, diffs=diffs, spec=spec,
                         status_code=422 if failed else 200)


@router.post("/playbooks/apply", response_class=HTMLResponse)
async def apply_playbook(request: Request, viewer: ViewerDep, session: SessionDep,
                         runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    principal.require(CONFIGURE)
    form = await _read(request)
    spec = check_source(form, runtime.registry)
    ids = await selected_groups(session, principal, form)
    if spec is None or not ids:
        return await _editor(request, viewer, session, form, spec=spec, status_code=422)
    following = await check_followers_in_scope(session, principal, spec.name)
    previous = await session.scalar(select(Playbook.source).where(
        Playbook.org_id == principal.org_id, Playbook.name == spec.name))
    now = runtime.clock.now()
    playbook = await do_apply_playbook(session, org_id=principal.org_id, spec=spec,
                                       source_text=form.source, group_ids=ids, at=now)
    await do_record(session, principal=principal, action="playbook.apply",
                    target_type="playbook", target_id=playbook.id,
                    before={"source": previous, "groups": following},
                    after={"source": form.source, "groups": sorted(set(ids) | set(following))},
                    at=now)
    await session.commit()
    return RedirectResponse(f"/playbooks/{playbook.id}?applied={len(ids)}", status_code=303)
