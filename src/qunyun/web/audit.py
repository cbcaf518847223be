"""The audit log page: every change staff made, newest first, filtered by actor and target."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from qunyun.api.deps import SessionDep
from qunyun.community.access import AUDIT
from qunyun.community.audit import AuditEntry, audit_facets, list_audit
from qunyun.core.errors import Forbidden
from qunyun.core.i18n import N_
from qunyun.web.staff_forms import forbidden_page
from qunyun.web.viewer import ViewerDep, render_page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
ACTION_LABELS = {
    "staff.create": N_("Staff member added"), "staff.update": N_("Role or scope changed"),
    "staff.disable": N_("Staff member disabled"), "staff.enable": N_("Staff member enabled"),
    "staff.password": N_("Password changed"), "staff.sign_in": N_("Signed in"),
    "token.create": N_("Token created"), "token.revoke": N_("Token revoked"),
}
TARGET_LABELS = {"staff": N_("Staff member"), "token": N_("Token"), "group": N_("Group"),
                 "community": N_("Community"), "playbook": N_("Playbook"),
                 "settings": N_("Settings"), "task": N_("Staff task")}


@dataclass(frozen=True, slots=True)
class AuditRow:
    """An entry as the page shows it: what changed, readable (both sides only differ there)."""

    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    target_name: str
    before: str
    after: str


def _text(document: dict[str, Any] | None) -> str:
    if document is None:
        return ""
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True, default=str)


def audit_row(entry: AuditEntry) -> AuditRow:
    before, after = entry.before, entry.after
    known = after or before or {}
    name = str(known.get("username") or known.get("name") or "")
    if before is not None and after is not None:
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    return AuditRow(entry.at, entry.actor, entry.action, entry.target_type, entry.target_id,
                    name, _text(before), _text(after))


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, viewer: ViewerDep, session: SessionDep,
                     actor: str = "", target_type: str = "",
                     page: int = Query(1, ge=1, le=100_000)) -> HTMLResponse:
    try:
        viewer.principal.require(AUDIT)
    except Forbidden as exc:
        return forbidden_page(request, viewer, exc)
    found = await list_audit(session, org_id=viewer.principal.org_id, actor=actor or None,
                             target_type=target_type or None, limit=PAGE_SIZE,
                             offset=(page - 1) * PAGE_SIZE)
    actors, target_types = await audit_facets(session, viewer.principal.org_id)
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render_page(request, viewer, "audit/list.html", {
        "entries": [audit_row(e) for e in found.entries], "total": found.total,
        "page": page, "pages": pages,
        "actor": actor, "target_type": target_type, "actors": actors,
        "target_types": target_types, "action_labels": ACTION_LABELS,
        "target_labels": TARGET_LABELS})
