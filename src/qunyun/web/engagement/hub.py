"""The hub of the engagement pages: what each one is for, with a link."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from qunyun.core.i18n import N_
from qunyun.web.hub import render_hub
from qunyun.web.viewer import ViewerDep

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
    return render_hub(request, viewer, package="qunyun.web.engagement", names=PAGES,
                      base="/engagement", heading=N_("Engagement"),
                      lead=N_("Sign-in, points, levels, replies and events that keep groups "
                              "lively."))
