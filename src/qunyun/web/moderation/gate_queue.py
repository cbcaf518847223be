"""The approval queue of the entry gates (入群审核): join requests of the groups the viewer sees,
pending first, with the applicant's answers; staff approve or reject with a note.

A decision needs ACT on the group and the CSRF token, is audited, and reaches the chat through a
job of the `gate` feature due at once (so the approval or rejection leaves through the pipeline
like every other action, and the applicant hears it privately).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.community.access import ACT, VIEW, Principal, access_group
from qunyun.community.audit import do_record
from qunyun.community.models import Group
from qunyun.core.errors import NotFound, QunyunError
from qunyun.core.features import JobRequest
from qunyun.core.i18n import N_
from qunyun.features.gate import service
from qunyun.features.gate.handlers import DECISION
from qunyun.features.gate.models import (
    APPROVED,
    EXPIRED,
    PENDING,
    REJECTED,
    STATUSES,
    WAIT_PAYMENT,
    WAIT_REVIEW,
    JoinRequest,
)
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.staff_forms import field_messages, text
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Entry approvals")
DESCRIPTION = N_("Join requests waiting for a decision, with the applicants' answers; approve "
                 "or reject them with a note. Every decision of the entry gates is kept here.")
BASE = "/moderation/gate_queue"
HREF = BASE
FEATURE = "gate"
PAGE_SIZE = 50
STATUS_LABELS = {PENDING: N_("Pending"), APPROVED: N_("Approved"), REJECTED: N_("Rejected"),
                 EXPIRED: N_("Expired")}
STATUS_BADGES = {PENDING: "badge-open", APPROVED: "badge-done", REJECTED: "", EXPIRED: ""}
WAITING_LABELS = {WAIT_REVIEW: N_("review"), WAIT_PAYMENT: N_("payment")}
SOURCE_LABELS = {"request": N_("Join request"), "join": N_("Joined without asking")}


@dataclass(frozen=True, slots=True)
class RequestRow:
    request: JoinRequest
    group_name: str


async def _rows(session: AsyncSession, principal: Principal, status: str,
                page: int) -> tuple[list[RequestRow], int]:
    where = [JoinRequest.org_id == principal.org_id, principal.group_clause()]
    if status:
        where.append(JoinRequest.status == status)
    joined = select(func.count()).select_from(JoinRequest).join(
        Group, Group.id == JoinRequest.group_id)
    total = int(await session.scalar(joined.where(*where)) or 0)
    rows = (await session.execute(
        select(JoinRequest, Group.name).join(Group, Group.id == JoinRequest.group_id)
        .where(*where).order_by(JoinRequest.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))).all()
    return [RequestRow(r, name) for r, name in rows], total


async def _page(request: Request, viewer: Viewer, session: AsyncSession,
                errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    raw_status = request.query_params.get("status", PENDING)
    status = raw_status if raw_status in STATUSES else ""
    raw_page = request.query_params.get("page", "")
    page = max(1, int(raw_page)) if raw_page.isdigit() else 1
    rows, total = await _rows(session, viewer.principal, status, page)
    context: dict[str, Any] = {
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "status": status, "statuses": STATUSES, "status_labels": STATUS_LABELS,
        "status_badges": STATUS_BADGES, "waiting_labels": WAITING_LABELS,
        "source_labels": SOURCE_LABELS, "base": BASE, "can_act": viewer.principal.can(ACT),
        "errors": errors or {}, "decided": request.query_params.get("decided", "")}
    return render_page(request, viewer, "moderation/gate_queue.html", context,
                       status_code=status_code)


@router.get(BASE, response_class=HTMLResponse)
async def queue_page(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    return await _page(request, viewer, session)


@router.post(BASE + "/{request_id}/decide", response_class=HTMLResponse)
async def decide(request_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                 runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    join_request = await session.scalar(select(JoinRequest).where(
        JoinRequest.org_id == principal.org_id, JoinRequest.id == request_id))
    if join_request is None:
        raise NotFound(N_("no such join request: {id}"), id=request_id)
    group = await access_group(session, principal, join_request.group_id, ACT)
    form = await request.form()
    status, note = text(form, "status"), text(form, "note")
    try:
        note = service.check_decision(request=join_request, status=status, note=note)
    except QunyunError as exc:
        messages = field_messages(exc, viewer.locale)
        return await _page(request, viewer, session, errors={str(request_id): " ".join(
            messages.values()) or exc.render(viewer.locale)}, status_code=exc.status)
    now = runtime.clock.now()
    before = {"status": join_request.status}
    await service.do_decide(session, request=join_request, status=status,
                            decided_by=principal.actor, rule="staff", reason=note, at=now)
    await runtime.pipeline.scheduler.add(
        session, org_id=principal.org_id, group_id=group.id, feature=FEATURE,
        request=JobRequest(DECISION, now, {"request": join_request.id},
                           key=f"{DECISION}:{join_request.id}"),
        caused_by=f"dashboard:{principal.actor}")
    await do_record(session, principal=principal, action=f"gate.{status}",
                    target_type="join_request", target_id=join_request.id, before=before,
                    after={"status": status, "note": note, "group_id": group.id,
                           "member": join_request.member}, at=now)
    await session.commit()
    runtime.pipeline.scheduler.forget()  # it caches the next due time; ours is new
    return RedirectResponse(f"{BASE}?decided={join_request.id}", status_code=303)
