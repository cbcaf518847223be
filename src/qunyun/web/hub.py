"""A hub page: the pages of one dashboard section, each with what it is for and a link."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from qunyun.community.access import VIEW
from qunyun.web.viewer import Viewer, render_page


def render_hub(request: Request, viewer: Viewer, *, package: str, names: tuple[str, ...],
               base: str, heading: str, lead: str) -> HTMLResponse:
    """`names` are page modules of `package`, each with `TITLE` and `DESCRIPTION` (message
    ids) and optionally `HREF` (else `base/name`); `heading` and `lead` are message ids."""
    viewer.principal.require(VIEW)
    pages: list[dict[str, Any]] = []
    for name in names:
        module = importlib.import_module(f"{package}.{name}")
        pages.append({"href": getattr(module, "HREF", f"{base}/{name}"),
                      "title": viewer.gettext(module.TITLE),
                      "description": viewer.gettext(module.DESCRIPTION)})
    return render_page(request, viewer, "hub.html", {
        "heading": viewer.gettext(heading), "lead": viewer.gettext(lead), "pages": pages})
