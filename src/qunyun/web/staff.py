"""Settings → staff: staff members, their roles and scopes, and bridge/API tokens.

Everything here needs MANAGE_STAFF (and a whole-organization scope); anyone else gets 403 and
nothing is written. Forms that fail come back with what was typed and what is wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.community.access import STAFF_ROLES
from qunyun.community.models import Community, Group
from qunyun.community.staff import StaffUser
from qunyun.community.staff_scope import load_scope, scope_from_document
from qunyun.community.staff_service import (
    access_staff,
    do_create_staff,
    do_set_staff_disabled,
    do_update_staff,
    list_staff,
    require_staff_manager,
)
from qunyun.community.tokens import do_create_scoped_token, do_revoke_token, list_tokens
from qunyun.core.errors import ErrorCollector, Forbidden, InvalidInput, NotFound, QunyunError
from qunyun.core.i18n import N_
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.staff_forms import (
    ScopeForm,
    field_messages,
    forbidden_page,
    read_scope,
    scope_form_of,
    text,
)
from qunyun.web.viewer import Viewer, ViewerDep, render_page

router = APIRouter(include_in_schema=False)

BASE = "/settings/staff"
ROLE_LABELS = {"owner": N_("Owner"), "admin": N_("Administrator"), "operator": N_("Operator"),
               "guide": N_("Guide"), "viewer": N_("Viewer")}
KIND_LABELS = {"api": N_("API"), "bridge": N_("Bridge")}


@dataclass(frozen=True, slots=True)
class Choices:
    """What a scope may be made of: the organization's communities, stores and groups."""

    communities: list[tuple[int, str]]
    stores: list[str]
    groups: list[tuple[int, str]]

    @property
    def community_names(self) -> dict[int, str]:
        return dict(self.communities)

    @property
    def group_names(self) -> dict[int, str]:
        return dict(self.groups)


async def load_choices(session: AsyncSession, org_id: int) -> Choices:
    communities = await session.execute(select(Community.id, Community.name)
                                        .where(Community.org_id == org_id).order_by(Community.name))
    stores = await session.scalars(select(Group.store).where(
        Group.org_id == org_id, Group.store.is_not(None)).distinct().order_by(Group.store))
    groups = await session.execute(select(Group.id, Group.name, Group.platform)
                                   .where(Group.org_id == org_id).order_by(Group.name, Group.id))
    return Choices([(i, n) for i, n in communities], [s for s in stores if s],
                   [(i, f"{n or i} · {p}") for i, n, p in groups])


@dataclass(slots=True)
class StaffFormState:
    """A form as typed, with its errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    scope: ScopeForm = field(default_factory=lambda: ScopeForm(True, [], [], []))
    errors: dict[str, str] = field(default_factory=dict)


async def _page(request: Request, viewer: Viewer, session: AsyncSession, *,
                new_staff: StaffFormState | None = None,
                new_token: StaffFormState | None = None, shown_token: str = "",
                status: int = 200) -> HTMLResponse:
    org_id = viewer.principal.org_id
    users = list(await list_staff(session, org_id))
    scopes = {u.id: await load_scope(session, u) for u in users}
    tokens = list(await list_tokens(session, org_id))
    return render_page(request, viewer, "staff/list.html", {
        "users": users, "scopes": scopes, "tokens": tokens,
        "token_scopes": {t.id: scope_from_document(t.scope) for t in tokens},
        "choices": await load_choices(session, org_id), "roles": STAFF_ROLES,
        "role_labels": ROLE_LABELS, "kind_labels": KIND_LABELS,
        "new_staff": new_staff or StaffFormState(), "new_token": new_token or StaffFormState(
            values={"kind": "api", "role": "viewer"}),
        "shown_token": shown_token, "done": request.query_params.get("done", "")},
        status_code=status)


@router.get(BASE, response_class=HTMLResponse)
async def staff_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    try:
        require_staff_manager(viewer.principal)
    except Forbidden as exc:
        return forbidden_page(request, viewer, exc)
    return await _page(request, viewer, session)


def _failed(exc: QunyunError, viewer: Viewer, values: dict[str, str],
            scope: ScopeForm) -> StaffFormState:
    return StaffFormState(values, scope, field_messages(exc, viewer.locale))


async def _run(request: Request, viewer: Viewer, session: AsyncSession,
               change: Callable[[], Awaitable[Any]]) -> Response | None:
    """Apply a change; a Forbidden becomes a 403 page and nothing is written."""
    try:
        await change()
    except (Forbidden, NotFound) as exc:
        await session.rollback()
        return forbidden_page(request, viewer, exc)
    await session.commit()
    return None


@router.post(BASE, response_class=HTMLResponse)
async def create_staff(request: Request, viewer: ViewerDep, session: SessionDep,
                       runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    form = await request.form()
    values = {name: text(form, name) for name in ("username", "display_name", "role")}
    scope_form = read_scope(form)
    errors = ErrorCollector()
    scope = scope_form.scope(errors)

    async def create() -> None:
        await do_create_staff(session, principal=viewer.principal, username=values["username"],
                              password=text(form, "password"), role=values["role"],
                              scope=scope, at=runtime.clock.now(),
                              display_name=values["display_name"], errors=errors)
    try:
        refused = await _run(request, viewer, session, create)
    except InvalidInput as exc:
        await session.rollback()
        return await _page(request, viewer, session, status=exc.status,
                           new_staff=_failed(exc, viewer, values, scope_form))
    return refused or RedirectResponse(f"{BASE}?done=created", status_code=303)


async def _edit_page(request: Request, viewer: Viewer, session: AsyncSession, user: StaffUser,
                     state: StaffFormState | None = None, status: int = 200) -> HTMLResponse:
    if state is None:
        state = StaffFormState({"display_name": user.display_name, "role": user.role},
                               scope_form_of(await load_scope(session, user)))
    return render_page(request, viewer, "staff/edit.html", {
        "user": user, "form": state, "choices": await load_choices(session, user.org_id),
        "roles": STAFF_ROLES, "role_labels": ROLE_LABELS}, status_code=status)


@router.get(BASE + "/{user_id}", response_class=HTMLResponse)
async def edit_staff_page(request: Request, user_id: int, viewer: ViewerDep,
                          session: SessionDep) -> Response:
    try:
        user = await access_staff(session, viewer.principal, user_id)
    except (Forbidden, NotFound) as exc:
        return forbidden_page(request, viewer, exc)
    return await _edit_page(request, viewer, session, user)


@router.post(BASE + "/{user_id}", response_class=HTMLResponse)
async def update_staff(request: Request, user_id: int, viewer: ViewerDep, session: SessionDep,
                       runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    form = await request.form()
    values = {name: text(form, name) for name in ("display_name", "role")}
    scope_form = read_scope(form)
    errors = ErrorCollector()
    scope = scope_form.scope(errors)

    async def update() -> None:
        await do_update_staff(session, principal=viewer.principal, user_id=user_id,
                              role=values["role"], scope=scope, at=runtime.clock.now(),
                              display_name=values["display_name"], errors=errors)
    try:
        refused = await _run(request, viewer, session, update)
    except InvalidInput as exc:
        await session.rollback()
        user = await access_staff(session, viewer.principal, user_id)
        return await _edit_page(request, viewer, session, user,
                                _failed(exc, viewer, values, scope_form), exc.status)
    return refused or RedirectResponse(f"{BASE}?done=changed", status_code=303)


@router.post(BASE + "/{user_id}/disable")
async def disable_staff(request: Request, user_id: int, viewer: ViewerDep, session: SessionDep,
                        runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    return await _set_disabled(request, viewer, session, runtime.clock.now(), user_id, True)


@router.post(BASE + "/{user_id}/enable")
async def enable_staff(request: Request, user_id: int, viewer: ViewerDep, session: SessionDep,
                       runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    return await _set_disabled(request, viewer, session, runtime.clock.now(), user_id, False)


async def _set_disabled(request: Request, viewer: Viewer, session: AsyncSession, at: Any,
                        user_id: int, disabled: bool) -> Response:
    async def change() -> None:
        await do_set_staff_disabled(session, principal=viewer.principal, user_id=user_id,
                                    disabled=disabled, at=at)
    refused = await _run(request, viewer, session, change)
    done = "disabled" if disabled else "enabled"
    return refused or RedirectResponse(f"{BASE}?done={done}", status_code=303)


@router.post("/settings/tokens", response_class=HTMLResponse)
async def create_token(request: Request, viewer: ViewerDep, session: SessionDep,
                       runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    form = await request.form()
    values = {name: text(form, name) for name in ("name", "kind", "role")}
    scope_form = read_scope(form)
    errors = ErrorCollector()
    scope = scope_form.scope(errors)
    created: list[str] = []

    async def create() -> None:
        created.append(await do_create_scoped_token(
            session, principal=viewer.principal, name=values["name"], kind=values["kind"],
            role=values["role"], scope=scope, at=runtime.clock.now(), errors=errors))
    try:
        refused = await _run(request, viewer, session, create)
    except InvalidInput as exc:
        await session.rollback()
        return await _page(request, viewer, session, status=exc.status,
                           new_token=_failed(exc, viewer, values, scope_form))
    return refused or await _page(request, viewer, session, shown_token=created[0])


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int, viewer: ViewerDep, session: SessionDep,
                       runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    async def revoke() -> None:
        await do_revoke_token(session, principal=viewer.principal, token_id=token_id,
                              at=runtime.clock.now())
    refused = await _run(request, viewer, session, revoke)
    return refused or RedirectResponse(f"{BASE}?done=revoked", status_code=303)

