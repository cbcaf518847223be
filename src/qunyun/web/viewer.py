"""Who is looking at a page and what every page renders with: the principal, the CSRF token,
the locale and the time zone of the organization (days and times are shown in it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from qunyun.api.deps import RuntimeDep
from qunyun.community.access import Principal
from qunyun.community.models import Organization
from qunyun.core.i18n import gettext
from qunyun.web.deps import CsrfToken, CurrentPrincipal
from qunyun.web.locale import request_locale
from qunyun.web.templating import DEFAULT_TIMEZONE, render


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    csrf_token: str
    locale: str
    timezone: str
    now: datetime

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    def gettext(self, message: str, **params: object) -> str:
        return gettext(message, self.locale, **params)

    def context(self) -> dict[str, Any]:
        return {"principal": self.principal, "csrf_token": self.csrf_token,
                "locale": self.locale, "timezone": self.timezone, "now": self.now}


async def current_viewer(request: Request, principal: CurrentPrincipal, token: CsrfToken,
                         runtime: RuntimeDep) -> Viewer:
    # A session of its own: the request's session (a writer one on POST) stays unopened until
    # the endpoint uses it, so an endpoint may open its own writer session instead.
    async with runtime.sessions() as session:
        timezone = await session.scalar(select(Organization.timezone)
                                        .where(Organization.id == principal.org_id))
    return Viewer(principal, token, request_locale(request), timezone or DEFAULT_TIMEZONE,
                  runtime.clock.now())


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def render_page(request: Request, viewer: Viewer, template: str,
                context: Mapping[str, Any] | None = None, *,
                status_code: int = 200) -> HTMLResponse:
    """A dashboard page or fragment, rendered for `viewer`."""
    return render(request, template, {**viewer.context(), **(context or {})},
                  status_code=status_code)
