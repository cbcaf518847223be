"""The hub of the governance pages (社群治理): what each one is for, with a link."""

from __future__ import annotations

import importlib
import importlib.util

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from qunyun.community.access import VIEW
from qunyun.web.viewer import ViewerDep, render_page

router = APIRouter(include_in_schema=False)

# Page modules of this package in the order the hub lists them; each has `router`, `TITLE`,
# `DESCRIPTION` (message ids) and `HREF` (its first page, under /moderation). A module that is
# not installed is left out, so a page can be listed before its module lands.
PAGES = ("cases", "rules", "blacklist", "appeals", "gate_queue", "gate_codes")


def installed_pages() -> list[str]:
    return [name for name in PAGES
            if importlib.util.find_spec(f"qunyun.web.moderation.{name}") is not None]


@router.get("/moderation", response_class=HTMLResponse)
async def hub_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    pages = []
    for name in installed_pages():
        module = importlib.import_module(f"qunyun.web.moderation.{name}")
        pages.append({"href": getattr(module, "HREF", f"/moderation/{name}"),
                      "title": viewer.gettext(module.TITLE),
                      "description": viewer.gettext(module.DESCRIPTION)})
    return render_page(request, viewer, "moderation/hub.html", {"pages": pages})
