"""The points page (`/engagement/points`) and the points panel of the member page.

Who may do what: everyone with VIEW sees balances and entries of the members in their groups
and may download them as CSV; ACT adjusts one member's points from the panel (audited);
CONFIGURE imports a CSV and previews a recompute (whose scope covers the whole community).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.app.bootstrap import Runtime
from qunyun.app.points_recompute import plan_recompute
from qunyun.community.access import ACT, CONFIGURE, VIEW, Principal
from qunyun.core.errors import FieldError, Forbidden, InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.features.points.admin import access_member, check_adjustment, do_staff_adjust
from qunyun.features.points.csvio import check_import, do_import, export_csv
from qunyun.features.points.queries import (
    PAGE_SIZE,
    SORTS,
    balance_page,
    member_communities,
    recent_entries,
    summary,
    visible_communities,
)
from qunyun.points import service as ledger
from qunyun.points.service import InsufficientPoints
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.templating import is_htmx
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Points")
DESCRIPTION = N_("Balances, recent entries, totals by reason; adjust, import and export, "
                 "recompute the rules over the history.")
REASONS = {"message": N_("Messages"), "reaction": N_("Reactions received"),
           "invite": N_("Invites"), "signin": N_("Sign-in"), "spend": N_("Spent"),
           "adjust": N_("Adjusted by staff"), "import": N_("Imported"),
           "recompute": N_("Recompute corrections"), "expire": N_("Expired")}
NONCE = re.compile(r"^[0-9a-f]{32}$")
MAX_UPLOAD = 2 * 1024 * 1024
PANEL_ENTRIES = 5


def reason_labels(viewer: Viewer) -> dict[str, str]:
    return {code: viewer.gettext(label) for code, label in REASONS.items()}


async def chosen_community(session: AsyncSession, principal: Principal,
                           raw: str | None) -> tuple[int, list[tuple[int, str]]]:
    """The community the page shows (the first visible one unless `raw` names another)."""
    communities = await visible_communities(session, principal)
    if not communities:
        raise NotFound("no community with groups you can see")
    if raw and raw.isdigit() and int(raw) in {i for i, _ in communities}:
        return int(raw), communities
    if raw:
        raise NotFound("no such community: {id}", id=raw)
    return communities[0][0], communities


def _page_number(raw: str | None) -> int:
    return max(1, int(raw)) if raw and raw.isdigit() else 1


async def _page_context(request: Request, viewer: Viewer, session: AsyncSession,
                        community_id: int, communities: list[tuple[int, str]]
                        ) -> dict[str, Any]:
    params = request.query_params
    search = (params.get("q") or "").strip()[:100]
    sort = params.get("sort") or "balance"
    sort = sort if sort in SORTS else "balance"
    page = _page_number(params.get("page"))
    rows, total = await balance_page(session, viewer.principal, community_id=community_id,
                                     search=search, sort=sort, page=page)
    return {
        "community_id": community_id, "communities": communities, "search": search,
        "sort": sort, "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "total": total,
        "rows": rows, "reasons": reason_labels(viewer),
        "summary": await summary(session, viewer.principal, community_id=community_id,
                                 since=viewer.now - timedelta(days=30)),
        "entries": await recent_entries(session, viewer.principal, community_id=community_id),
        "import_errors": [], "imported": params.get("imported"),
    }


@router.get("/engagement/points", response_class=HTMLResponse)
async def points_page(request: Request, viewer: ViewerDep,
                      session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    community_id, communities = await chosen_community(
        session, viewer.principal, request.query_params.get("community"))
    context = await _page_context(request, viewer, session, community_id, communities)
    return render_page(request, viewer, "engagement/points/page.html", context)


@router.get("/engagement/points/export.csv")
async def export(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    viewer.principal.require(VIEW)
    community_id, _ = await chosen_community(session, viewer.principal,
                                             request.query_params.get("community"))
    text = await export_csv(session, principal=viewer.principal, community_id=community_id)
    name = f"points-{community_id}-{viewer.today.isoformat()}.csv"
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/engagement/points/import", response_class=HTMLResponse)
async def import_csv(request: Request, viewer: ViewerDep, session: SessionDep,
                     runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    form = await request.form()
    try:
        return await _import_form(request, viewer, session, runtime, form)
    finally:
        await form.close()  # the uploaded file's temporary storage


async def _import_form(request: Request, viewer: Viewer, session: AsyncSession,
                       runtime: Runtime, form: FormData) -> Response:
    principal = viewer.principal
    principal.require(CONFIGURE)
    raw_community = form.get("community")
    community_id, communities = await chosen_community(
        session, principal, raw_community if isinstance(raw_community, str) else None)
    try:
        applied = await _import(session, principal, community_id, form.get("file"),
                                runtime.clock.now())
    except InvalidInput as exc:
        errors = exc.errors or [FieldError("", exc.message, tuple(sorted(exc.params.items())))]
    else:
        return RedirectResponse(f"/engagement/points?community={community_id}"
                                f"&imported={applied}#csv", status_code=303)
    context = await _page_context(request, viewer, session, community_id, communities)
    context["import_errors"] = errors
    return render_page(request, viewer, "engagement/points/page.html", context,
                       status_code=422)


async def _import(session: AsyncSession, principal: Principal, community_id: int,
                  upload: object, at: datetime) -> int:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("choose a CSV file to import")
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("the file is larger than {limit} MB", limit=MAX_UPLOAD // 2**20)
    plan = await check_import(session, principal=principal, community_id=community_id,
                              data=data)
    result = await do_import(session, plan, principal=principal, at=at)
    await session.commit()
    return result.applied


@router.get("/engagement/points/recompute", response_class=HTMLResponse)
async def recompute_preview(request: Request, viewer: ViewerDep, session: SessionDep,
                            runtime: RuntimeDep) -> HTMLResponse:
    principal = viewer.principal
    principal.require(CONFIGURE)
    community_id, _ = await chosen_community(session, principal,
                                             request.query_params.get("community"))
    if not principal.scope.whole_org and community_id not in principal.scope.communities:
        raise Forbidden("a recompute covers the whole community: your scope does not")
    plan = await plan_recompute(session, runtime.registry, org_id=principal.org_id,
                                community_id=community_id, until=viewer.now)
    return render_page(request, viewer, "engagement/points/_recompute.html",
                       {"plan": plan, "reasons": reason_labels(viewer)})


# --- the member panel ----------------------------------------------------------------------

async def _panel_context(viewer: Viewer, session: AsyncSession,
                         person_id: int) -> dict[str, Any]:
    person = await access_member(session, viewer.principal, person_id)
    sections = []
    for community_id, name in await member_communities(session, viewer.principal, person.id):
        sections.append({
            "community_id": community_id, "name": name,
            "balance": await ledger.balance(session, community_id=community_id,
                                            person_id=person.id),
            "entries": await recent_entries(session, viewer.principal,
                                            community_id=community_id, person_id=person.id,
                                            limit=PANEL_ENTRIES)})
    return {"person": person, "sections": sections, "reasons": reason_labels(viewer),
            "nonce": uuid.uuid4().hex, "errors": {}, "values": {}, "done": False}


@router.get("/members/{person_id}/panels/points", response_class=HTMLResponse)
async def member_panel(person_id: int, request: Request, viewer: ViewerDep,
                       session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    context = await _panel_context(viewer, session, person_id)
    return render_page(request, viewer, "engagement/points/_panel.html", context)


@router.post("/members/{person_id}/panels/points/adjust", response_class=HTMLResponse)
async def adjust(person_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                 runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    principal.require(ACT)
    await access_member(session, principal, person_id)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    try:
        amount = check_adjustment(form.get("amount", ""), form.get("note", ""))
        community = form.get("community", "")
        communities = {i for i, _ in await member_communities(session, principal, person_id)}
        if not community.isdigit() or int(community) not in communities:
            raise InvalidInput("the adjustment was not made", errors=[
                FieldError("community", N_("choose one of the member's communities"))])
        nonce = form.get("nonce", "")  # one per form shown: a form sent twice counts once
        if not NONCE.match(nonce):
            nonce = uuid.uuid4().hex
        await do_staff_adjust(session, principal=principal, community_id=int(community),
                              person_id=person_id, amount=amount, note=form.get("note", ""),
                              key=f"points:adjust:web:{nonce}", at=runtime.clock.now())
        await session.commit()
    except InvalidInput as exc:
        errors = {e.path: viewer.gettext(e.reason, **dict(e.params)) for e in exc.errors}
    except InsufficientPoints as exc:
        errors = {"amount": exc.render(viewer.locale)}
    if not errors and not is_htmx(request):
        return RedirectResponse(f"/members/{person_id}#panel-points", status_code=303)
    context = await _panel_context(viewer, session, person_id)
    context.update(errors=errors, values=form, done=not errors)
    # An HTMX form swaps the answer into the panel, errors too (HTMX swaps only 2xx answers).
    status = 200 if is_htmx(request) or not errors else 422
    return render_page(request, viewer, "engagement/points/_panel.html", context,
                       status_code=status)
