"""The moderation log (处理记录): every case — which message, which rule, what matched
(highlighted), what was done, what became of it — filtered by group, rule and status, with each
rule's hits and measured precision, and an undo button.

Undoing needs ACT on the case's group and the CSRF token, and is audited. The case is marked
undone at once and the classifier learns the message was fine; the actions that undo its effects
(an unmute) leave through the pipeline: a moderation job due now carries them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.app.bootstrap import Runtime
from qunyun.community.access import ACT, VIEW, Principal, access_group
from qunyun.community.audit import do_record
from qunyun.community.models import Group
from qunyun.core.actions import ActionRequest
from qunyun.core.errors import NotFound
from qunyun.core.features import JobRequest
from qunyun.core.i18n import N_
from qunyun.features.moderation import service
from qunyun.features.moderation.appeals import action_label
from qunyun.features.moderation.handlers import DELIVER, deliver_payload
from qunyun.features.moderation.models import APPLIED, CASE_STATUSES, OVERTURNED, UNDONE
from qunyun.features.moderation.queries import CaseFilter, get_case, list_cases, rule_stats
from qunyun.features.moderation.rules import RULE_LABELS
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.viewer import ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Moderation log")
DESCRIPTION = N_("What the rules caught: the message with the match highlighted, the rule, the "
                 "action taken, undo; and each rule's hits and the share overturned.")
BASE = "/moderation/cases"
HREF = BASE
FEATURE = "moderation"
PAGE_SIZE = 50
STATUS_LABELS = {APPLIED: N_("Stands"), UNDONE: N_("Undone by staff"),
                 OVERTURNED: N_("Overturned on appeal")}
STATUS_BADGES = {APPLIED: "badge-done", UNDONE: "", OVERTURNED: "badge-open"}
STATS_DAYS = 30


def labels() -> dict[str, Any]:
    return {"rule_labels": RULE_LABELS, "status_labels": STATUS_LABELS,
            "status_badges": STATUS_BADGES}


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.strip().isdigit() else None


async def _groups(session: AsyncSession, principal: Principal) -> list[Group]:
    return list(await session.scalars(select(Group).where(
        Group.org_id == principal.org_id, principal.group_clause())
        .order_by(Group.name, Group.id)))


@router.get(BASE, response_class=HTMLResponse)
async def cases_page(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    principal.require(VIEW)
    query = request.query_params
    group_id = _int(query.get("group"))
    if group_id is not None:
        await access_group(session, principal, group_id, VIEW)
    rule = query.get("rule") or None
    status = query.get("status") if query.get("status") in CASE_STATUSES else None
    page = max(1, _int(query.get("page")) or 1)
    filters = CaseFilter(group_id=group_id, rule=rule, status=status)
    rows, total = await list_cases(session, principal=principal, filters=filters, page=page,
                                   page_size=PAGE_SIZE)
    stats = await rule_stats(session, principal=principal, filters=CaseFilter(
        group_id=group_id, since=viewer.now - timedelta(days=STATS_DAYS)))
    chosen = {k: v for k, v in (("group", group_id), ("rule", rule), ("status", status)) if v}
    return render_page(request, viewer, "moderation/cases.html", {
        **labels(), "rows": rows, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)), "stats": stats, "stats_days": STATS_DAYS,
        "groups": await _groups(session, principal), "filters": chosen,
        "base": BASE, "query": urlencode(chosen), "statuses": CASE_STATUSES,
        "undone": _int(query.get("undone")),
        "action_label": lambda action: action_label(action, viewer.locale)})


@router.post(BASE + "/{case_id}/undo", response_class=HTMLResponse)
async def undo_case(case_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                    runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    case = await get_case(session, org_id=principal.org_id, case_id=case_id)
    if case is None:
        raise NotFound(N_("no such moderation case: {id}"), id=case_id)
    if case.group_id is not None:
        await access_group(session, principal, case.group_id, ACT)
    else:
        principal.require(ACT)
    now = runtime.clock.now()
    actions = await service.do_undo_case(session, case_id=case.id, actor=principal.actor,
                                         at=now, overturned=False)
    await _deliver(session, runtime, principal, case.group_id, actions, key=f"undo:{case.id}")
    await do_record(session, principal=principal, action="moderation.undo",
                    target_type="moderation_case", target_id=case.id,
                    before={"status": APPLIED, "action": case.action},
                    after={"status": UNDONE, "actions": [a.type for a in actions]}, at=now)
    await session.commit()
    runtime.pipeline.scheduler.forget()  # it caches the next due time; ours is new
    back = (await request.form()).get("back")
    target = back if isinstance(back, str) and back.startswith(BASE) else BASE
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}undone={case.id}", status_code=303)


async def _deliver(session: AsyncSession, runtime: Runtime, principal: Principal,
                   group_id: int | None, actions: list[ActionRequest], *, key: str) -> None:
    """Hand actions decided on the dashboard to the pipeline: a moderation job due now."""
    if not actions or group_id is None:
        return
    await runtime.pipeline.scheduler.add(
        session, org_id=principal.org_id, group_id=group_id, feature=FEATURE,
        request=JobRequest(DELIVER, runtime.clock.now(), deliver_payload(actions), key=key),
        caused_by=f"dashboard:{principal.actor}")
