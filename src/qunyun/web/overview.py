"""The overview: every group the principal may see, with its numbers, health and a sparkline.

Filtering, sorting and paging go through HTMX (only the results are re-rendered) and work as
plain links and a GET form without JavaScript. The totals above the table (cards and a 30-day
chart over every matching group) are a fragment of their own, fetched when the page is shown and
when the filters change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import SessionDep
from qunyun.community.access import VIEW
from qunyun.community.roles import PURPOSE_LABELS, PURPOSES
from qunyun.web.overview_data import facets, page_rows, summary
from qunyun.web.overview_query import (
    PAGE_SIZE,
    OverviewFilters,
    Window,
    count_groups,
    page_query,
)
from qunyun.web.templating import is_htmx
from qunyun.web.viewer import Viewer, ViewerDep, render_page

RESULTS_ID = "overview-results"
FILTERS_ID = "overview-filters"
COLUMNS = ("name", "community", "platform", "purpose", "store", "members", "messages",
           "speakers", "joins", "leaves")

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/overview", status_code=303)


async def _results(session: AsyncSession, viewer: Viewer,
                   filters: OverviewFilters) -> dict[str, Any]:
    """One page of the table, for the filters (the page is clamped to the last one)."""
    window = Window(viewer.today)
    total = await count_groups(session, viewer.principal, filters)
    pages = max(1, -(-total // PAGE_SIZE))
    if filters.page > pages:
        filters = replace(filters, page=pages)
    ids = list(await session.scalars(page_query(viewer.principal, filters, window)))
    return {
        "filters": filters, "rows": await page_rows(session, ids, window, filters.quiet_days),
        "total": total, "pages": pages, "columns": COLUMNS, "results_id": RESULTS_ID,
        "purposes": [(p, PURPOSE_LABELS[p]) for p in PURPOSES], "window": window,
    }


async def _summary(session: AsyncSession, viewer: Viewer,
                   filters: OverviewFilters) -> dict[str, Any]:
    total = await count_groups(session, viewer.principal, filters)
    return {"summary": await summary(session, viewer.principal, filters, Window(viewer.today),
                                     total)}


@router.get("/overview", response_class=HTMLResponse)
async def overview(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    """The page. Its summary (cards and chart, the costliest part) comes in its own request
    once the page is shown, and again only when the filters change, not on sorting or paging;
    `summary=1` renders it in place (for browsers without JavaScript)."""
    viewer.principal.require(VIEW)
    filters = OverviewFilters.from_query(request.query_params)
    context = await _results(session, viewer, filters)
    if is_htmx(request) and request.headers.get("hx-target") == RESULTS_ID:
        context["refresh_summary"] = request.headers.get("hx-trigger") == FILTERS_ID
        return render_page(request, viewer, "overview/_results.html", context)
    if request.query_params.get("summary") == "1":
        context.update(await _summary(session, viewer, filters))
    context["facets"] = await facets(session, viewer.principal)
    return render_page(request, viewer, "overview/page.html", context)


@router.get("/overview/summary", response_class=HTMLResponse)
async def overview_summary(request: Request, viewer: ViewerDep,
                           session: SessionDep) -> HTMLResponse:
    """Totals of the filtered groups and their 30-day chart, as a fragment of the page."""
    viewer.principal.require(VIEW)
    filters = OverviewFilters.from_query(request.query_params)
    context = {"filters": filters, **await _summary(session, viewer, filters)}
    return render_page(request, viewer, "overview/_summary.html", context)
