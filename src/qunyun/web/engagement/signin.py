"""The sign-in page (/engagement/signin): today's sign-ins per visible group with the last 14
days, and the longest streaks alive; the member panel: a month calendar of a person's sign-ins
in each of their communities, with the streak and make-up cards.

Days are the organization's local days (communities of one organization share its time zone in
practice). A guide sees her groups only; a member in none of them is 403.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Any

from babel.dates import format_skeleton, get_day_names
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from qunyun.api.deps import SessionDep
from qunyun.community.access import VIEW
from qunyun.core.errors import Forbidden, InvalidInput
from qunyun.core.i18n import N_
from qunyun.features.signin.models import FILLED, SIGNED
from qunyun.features.signin.queries import (
    GroupTrend,
    group_trends,
    live_streaks,
    person_communities,
    person_signins,
    signed_communities,
)
from qunyun.web.members import access_person
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

TITLE = N_("Sign-in")
DESCRIPTION = N_("Today's sign-ins per group, the last 14 days, the longest streaks and each "
                 "member's sign-in calendar.")
TREND_DAYS = 14
GROUPS_SHOWN = 50
STREAKS_SHOWN = 20
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@router.get("/engagement/signin", response_class=HTMLResponse)
async def signin_page(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    principal = viewer.principal
    principal.require(VIEW)
    today = viewer.today
    trends = await group_trends(session, visible=principal.group_clause(), today=today,
                                days=TREND_DAYS)
    trends.sort(key=lambda t: (-t.today, -t.total, t.name))
    days = [today - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS)]
    totals = [sum(t.counts[i] for t in trends) for i in range(TREND_DAYS)]
    return render_page(request, viewer, "engagement/signin/page.html", {
        "today_total": totals[-1], "window_total": sum(totals),
        "groups_today": sum(1 for t in trends if t.today), "groups": trends[:GROUPS_SHOWN],
        "groups_count": len(trends), "trend": _chart(viewer, days, totals, trends),
        "streaks": await live_streaks(session, visible=principal.group_clause(),
                                      org_id=principal.org_id, today=today,
                                      limit=STREAKS_SHOWN),
    })


def _chart(viewer: Viewer, days: list[date], totals: list[int],
           trends: list[GroupTrend]) -> dict[str, Any]:
    groups = [sum(1 for t in trends if t.counts[i]) for i in range(len(days))]
    return {"x": [d.isoformat()[5:] for d in days], "series": [
        {"name": viewer.gettext(N_("Sign-ins")), "type": "bar", "data": totals},
        {"name": viewer.gettext(N_("Groups with sign-ins")), "type": "line", "data": groups,
         "axis": 1}]}


@router.get("/members/{person_id}/panels/signin", response_class=HTMLResponse)
async def signin_panel(person_id: int, request: Request, viewer: ViewerDep,
                       session: SessionDep, month: str | None = None) -> HTMLResponse:
    principal = viewer.principal
    principal.require(VIEW)
    person = await access_person(session, principal, person_id)
    communities = await person_communities(session, person_id=person.id,
                                           visible=principal.group_clause())
    if principal.scope.whole_org:
        communities = sorted({*communities, *await signed_communities(session, person.id)})
    elif not communities:
        raise Forbidden("this member is in none of your groups")
    today = viewer.today
    first = _month(month, today)
    shown = [await person_signins(session, community_id=c, person_id=person.id, month=first,
                                  today=today) for c in communities]
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return render_page(request, viewer, "engagement/signin/panel.html", {
        "person": person, "communities": shown, "weeks": _weeks(first, today),
        "weekdays": _weekdays(viewer.locale),
        "month_title": format_skeleton("yMMM", first, locale=viewer.locale),
        "previous": previous.strftime("%Y-%m"),
        "following": following.strftime("%Y-%m") if following <= today else None,
        "now_day": today, "SIGNED": SIGNED, "FILLED": FILLED,
    })


def _month(text: str | None, today: date) -> date:
    """The first day of the month asked for (`YYYY-MM`), at most the current one."""
    current = today.replace(day=1)
    if not text:
        return current
    match = MONTH.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput("{option} must be a month like {example}", option="month",
                           example=current.strftime("%Y-%m"))
    return min(date(int(match.group(1)), int(match.group(2)), 1), current)


def _weekdays(locale: str) -> list[str]:
    names = get_day_names("abbreviated", locale=locale)
    return [str(names[i]) for i in range(7)]  # 0 is Monday, as in `_weeks`


def _weeks(first: date, today: date) -> list[list[date | None]]:
    """The month's days in weeks from Monday; None pads the first and last week."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return [[d if d.month == first.month else None for d in week] for week in weeks]
