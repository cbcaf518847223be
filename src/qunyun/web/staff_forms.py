"""Rendering the staff area's pages (sign-in, account, audit, staff) and reading their forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from qunyun.community.access import Principal, Scope
from qunyun.core.errors import ErrorCollector, QunyunError
from qunyun.core.i18n import gettext
from qunyun.web import templating
from qunyun.web.viewer import Viewer, render_page


def render(request: Request, template: str, *, principal: Principal | None = None,
           csrf: str | None = None, status: int = 200, **context: Any) -> HTMLResponse:
    """A page with what `base.html` expects (`principal`, `csrf_token`, `_`, `locale`)."""
    values = {"principal": principal, "csrf_token": csrf or "", **context}
    return templating.render(request, template, values, status_code=status)


def field_messages(exc: QunyunError, locale: str) -> dict[str, str]:
    """What is wrong, by form field (a message for the whole form under "")."""
    messages: dict[str, str] = {}
    for error in exc.errors:
        messages.setdefault(error.path, gettext(error.reason, locale, **dict(error.params)))
    if not messages or "" not in messages:
        messages[""] = exc.render(locale)
    return messages


def forbidden_page(request: Request, viewer: Viewer, exc: QunyunError) -> HTMLResponse:
    """403 with the reason, in the page's language."""
    return render_page(request, viewer, "error.html", {"error": exc, "status": exc.status},
                       status_code=exc.status)


@dataclass(frozen=True, slots=True)
class ScopeForm:
    """The scope part of a staff or token form, as typed (to show again) and as parsed."""

    whole_org: bool
    communities: list[str]
    stores: list[str]
    groups: list[str]

    def scope(self, errors: ErrorCollector) -> Scope:
        if self.whole_org:
            if any(v.strip() for v in (*self.communities, *self.stores, *self.groups)):
                errors.add("scope", "choose the whole organization or parts of it, not both")
            return Scope()
        return Scope(whole_org=False, communities=_ids(errors, "communities", self.communities),
                     stores=frozenset(s.strip() for s in self.stores if s.strip()),
                     groups=_ids(errors, "groups", self.groups))


def _ids(errors: ErrorCollector, field: str, values: list[str]) -> frozenset[int]:
    ids: set[int] = set()
    for value in values:
        if value.strip().isdigit():
            ids.add(int(value))
        elif value.strip():
            errors.add(field, "not a number: {value}", value=value)
    return frozenset(ids)


def _strings(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def read_scope(form: FormData) -> ScopeForm:
    return ScopeForm(whole_org=text(form, "scope") != "chosen",
                     communities=_strings(form, "communities"), stores=_strings(form, "stores"),
                     groups=_strings(form, "groups"))


def scope_form_of(scope: Scope) -> ScopeForm:
    return ScopeForm(whole_org=scope.whole_org,
                     communities=[str(c) for c in sorted(scope.communities)],
                     stores=sorted(scope.stores), groups=[str(g) for g in sorted(scope.groups)])
