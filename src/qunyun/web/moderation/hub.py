"""The hub of the governance pages (社群治理): what each one is for, with a link."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from qunyun.core.i18n import N_
from qunyun.web.hub import render_hub
from qunyun.web.viewer import ViewerDep

router = APIRouter(include_in_schema=False)

# Page modules of this package in the order the hub lists them; each has `router`, `TITLE`,
# `DESCRIPTION` (message ids) and `HREF` (its first page, under /moderation).
PAGES = ("cases", "rules", "blacklist", "appeals", "gate_queue", "gate_codes")


def installed_pages() -> list[str]:
    return list(PAGES)


@router.get("/moderation", response_class=HTMLResponse)
async def hub_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return render_hub(request, viewer, package="qunyun.web.moderation", names=PAGES,
                      base="/moderation", heading=N_("Governance"),
                      lead=N_("Group rules, what they caught and what was done about it: "
                              "entry, moderation, blacklist and appeals."))
