"""The appeals queue (申诉): what members asked in private about the actions taken against them,
the case each one is about (its rule, action and the matched text), and the decision form.

Upholding an appeal overturns the case; rejecting it lets the case stand. Deciding needs ACT on
the case's group and the CSRF token, is audited, and the member is told in private. The actions
leave through the pipeline: a job of the moderation feature, due now, carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.community.access import ACT, VIEW
from qunyun.core.errors import InvalidInput
from qunyun.core.i18n import N_
from qunyun.features.moderation import appeals
from qunyun.features.moderation.appeal_models import OPEN, REJECTED, UPHELD
from qunyun.features.moderation.models import APPLIED, OVERTURNED, UNDONE, ModerationCase
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.staff_forms import field_messages, text
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Appeals")
DESCRIPTION = N_("Members' appeals against moderation actions, asked in private: the case, the "
                 "matched text, and a decision that overturns the action or lets it stand.")
BASE = "/moderation/appeals"
FEATURE = "moderation"
PAGE_SIZE = 50
DECIDED = "decided"
STATUS_LABELS = {OPEN: N_("Waiting"), UPHELD: N_("Upheld: action overturned"),
                 REJECTED: N_("Rejected: action stands")}
STATUS_BADGES = {OPEN: "badge-open", UPHELD: "badge-done", REJECTED: ""}
CASE_STATUS_LABELS = {APPLIED: N_("Stands"), UNDONE: N_("Undone by staff"),
                      OVERTURNED: N_("Overturned on appeal")}


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    matched: bool


def matched_segments(case: ModerationCase) -> list[Segment]:
    """The case's text cut into plain and matched parts (the `detail["spans"]` of the rule)."""
    spans = []
    raw = case.detail.get("spans") if isinstance(case.detail, dict) else None
    for match in raw if isinstance(raw, list) else []:
        start, end = (match.get("start"), match.get("end")) if isinstance(match, dict) \
            else (None, None)
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(case.text):
            spans.append((start, end))
    segments: list[Segment] = []
    at = 0
    for start, end in sorted(spans):
        if start < at:
            continue  # overlapping spans: keep the first
        if start > at:
            segments.append(Segment(case.text[at:start], False))
        segments.append(Segment(case.text[start:end], True))
        at = end
    if at < len(case.text):
        segments.append(Segment(case.text[at:], False))
    return segments


def _labels() -> dict[str, Any]:
    return {"base": BASE, "status_labels": STATUS_LABELS, "status_badges": STATUS_BADGES,
            "rule_labels": appeals.RULE_LABELS}


@router.get(BASE, response_class=HTMLResponse)
async def appeals_page(request: Request, viewer: ViewerDep,
                       session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    status = DECIDED if request.query_params.get("status") == DECIDED else OPEN
    raw_page = request.query_params.get("page", "")
    page = max(1, int(raw_page)) if raw_page.isdigit() else 1
    rows, total = await appeals.list_appeals(session, principal=viewer.principal, status=status,
                                             limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_page(request, viewer, "moderation/appeals.html", {
        **_labels(), "rows": rows, "total": total, "status": status, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)), "pager_base": f"{BASE}?status={status}"})


async def _detail(request: Request, viewer: Viewer, session: AsyncSession, appeal_id: int, *,
                  errors: dict[str, str] | None = None, note: str = "",
                  status: int = 200) -> HTMLResponse:
    row = await appeals.get_appeal(session, principal=viewer.principal, appeal_id=appeal_id)
    return render_page(request, viewer, "moderation/appeals_detail.html", {
        **_labels(), "row": row, "segments": matched_segments(row.case),
        "action_text": appeals.action_label(row.case.action, viewer.locale),
        "case_status": CASE_STATUS_LABELS.get(row.case.status, row.case.status),
        "may_decide": viewer.principal.can(ACT) and row.appeal.status == OPEN,
        "errors": errors or {}, "note": note,
        "decided": request.query_params.get("decided") == "1"}, status_code=status)


@router.get(BASE + "/{appeal_id}", response_class=HTMLResponse)
async def appeal_page(appeal_id: int, request: Request, viewer: ViewerDep,
                      session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    return await _detail(request, viewer, session, appeal_id)


@router.post(BASE + "/{appeal_id}/decide", response_class=HTMLResponse)
async def decide(appeal_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                 runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    principal.require(ACT)
    submitted = await request.form()
    decision, note = text(submitted, "decision"), text(submitted, "note")
    try:
        appeals.check_decision(decision=decision, note=note)
    except InvalidInput as exc:
        return await _detail(request, viewer, session, appeal_id, note=note, status=422,
                             errors=field_messages(exc, viewer.locale))
    actions = await appeals.do_decide(session, principal=principal, appeal_id=appeal_id,
                                      decision=decision, note=note, at=viewer.now)
    row = await appeals.get_appeal(session, principal=principal, appeal_id=appeal_id)
    await runtime.pipeline.scheduler.add(
        session, org_id=principal.org_id, group_id=row.case.group_id, feature=FEATURE,
        request=appeals.decided_job(row.appeal, actions, viewer.now),
        caused_by=f"dashboard:{principal.actor}")
    await session.commit()
    runtime.pipeline.scheduler.forget()  # it caches the next due time; ours is new
    return RedirectResponse(f"{BASE}/{appeal_id}?decided=1", status_code=303)
