"""The hub of the engagement pages: what each one is for, with a link."""

from __future__ import annotations

import importlib

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from qunyun.community.access import VIEW
from qunyun.web.viewer import ViewerDep, render_page

router = APIRouter(include_in_schema=False)

# Page modules of this package in the order the hub lists them; each has `router`, `TITLE`
# and `DESCRIPTION` (message ids) and serves its pages under /engagement/<name>.
PAGES = ("points", "signin", "autoreply", "leaderboard", "levels", "redpacket", "challenge",
         "highlights")
# Panels of the member page, loaded after it: GET /members/{person_id}/panels/<name>.
MEMBER_PANELS = ("points", "signin", "levels")


def installed_pages() -> list[str]:
    return list(PAGES)


def member_panels() -> list[str]:
    return list(MEMBER_PANELS)


@router.get("/engagement", response_class=HTMLResponse)
async def hub_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    pages = []
    for name in installed_pages():
        module = importlib.import_module(f"qunyun.web.engagement.{name}")
        pages.append({"href": f"/engagement/{name}", "title": viewer.gettext(module.TITLE),
                      "description": viewer.gettext(module.DESCRIPTION)})
    return render_page(request, viewer, "engagement/hub.html", {"pages": pages})
