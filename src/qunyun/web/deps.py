"""What dashboard pages depend on: the signed-in staff member and the CSRF check.

    async def page(request: Request, principal: CurrentPrincipal,
                   token: Annotated[str, Depends(csrf_token)]) -> HTMLResponse: ...

    @router.post("/thing")
    async def change(principal: CurrentPrincipal, _csrf: VerifiedCsrf) -> Response: ...

The runtime comes from `request.app.state.runtime`, as for the API; nothing else is needed.
A browser that is not signed in is sent to `/login?next=…` on a page (HTML GET); any other
request gets 401 (an HTMX request also gets `HX-Redirect` to the login page).
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qunyun.api.deps import get_runtime
from qunyun.api.errors import error_body
from qunyun.community.access import Principal
from qunyun.community.staff_sessions import (
    SESSION_LIFETIME,
    LiveSession,
    access_session,
    staff_principal,
)
from qunyun.core.errors import Forbidden, QunyunError, Unauthorized
from qunyun.web.locale import request_locale, safe_return_path

SESSION_COOKIE = "qunyun_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_STATE_LIVE = "qunyun_live_session"
_STATE_PRINCIPAL = "qunyun_principal"
_STATE_COOKIE = "qunyun_set_session_cookie"


class LoginRequired(Exception):
    """Raised for a page request without a session; answered with a redirect to the login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class NotSignedIn(Unauthorized):
    """A non-page request without a valid session: 401."""


class CsrfRefused(Forbidden):
    """A change without the session's CSRF token: 403, nothing is written."""


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"


def wants_page(request: Request) -> bool:
    """A browser asking for a whole page (not an HTMX fragment, not an API client)."""
    return (request.method == "GET" and not is_htmx(request)
            and "text/html" in request.headers.get("accept", ""))


def _next_url(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def login_url(next_url: str | None = None) -> str:
    return "/login" + (f"?next={quote(next_url, safe='')}" if next_url else "")


async def _look_up(request: Request, sessions: async_sessionmaker[AsyncSession],
                   token: str) -> LiveSession | None:
    runtime = get_runtime(request)
    found: LiveSession | None = None
    async with sessions() as session:
        try:
            found = await access_session(session, token, runtime.clock.now())
            setattr(request.state, _STATE_PRINCIPAL, await staff_principal(
                session, found.user, request_locale(request)))
        except Unauthorized:
            found = None
        await session.commit()
    return found


async def live_session(request: Request) -> LiveSession | None:
    """The request's session, looked up once per request; None when not signed in."""
    if hasattr(request.state, _STATE_LIVE):
        cached: LiveSession | None = getattr(request.state, _STATE_LIVE)
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    found: LiveSession | None = None
    if token:
        runtime = get_runtime(request)
        try:
            found = await _look_up(request, runtime.sessions, token)
        except OperationalError:
            # The rare write (a sliding refresh, an expired session removed) met another
            # writer on SQLite: do it again in a session that queues for the write lock.
            found = await _look_up(request, runtime.write_sessions, token)
        if found is not None and found.refreshed:
            remember_session_cookie(request, token)
    setattr(request.state, _STATE_LIVE, found)
    return found


def _not_signed_in(request: Request) -> Exception:
    if wants_page(request):
        return LoginRequired(_next_url(request))
    return NotSignedIn("please sign in")


async def current_principal(request: Request) -> Principal:
    """The signed-in staff member with role and scope (LoginRequired / 401 otherwise)."""
    if await live_session(request) is None:
        raise _not_signed_in(request)
    principal: Principal = getattr(request.state, _STATE_PRINCIPAL)
    return principal


async def csrf_token(request: Request) -> str:
    """The session's CSRF token: a hidden `csrf_token` input, or the X-CSRF-Token header."""
    live = await live_session(request)
    if live is None:
        raise _not_signed_in(request)
    return live.session.csrf_token


async def verify_csrf(request: Request) -> None:
    """Refuse a change whose form field or header does not carry the session's CSRF token."""
    expected = await csrf_token(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None and _has_form(request):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not given or not same_secret(given, expected):
        if _has_form(request):  # uploaded files of a refused form are closed now, not leaked
            await (await request.form()).close()
        raise CsrfRefused("the form has expired; reload the page and try again")


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison (of bytes: any text a client sends is accepted as input)."""
    return secrets.compare_digest(given.encode(), expected.encode())


def _has_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CsrfToken = Annotated[str, Depends(csrf_token)]
VerifiedCsrf = Annotated[None, Depends(verify_csrf)]


# --- the session cookie ---------------------------------------------------------------------

def session_cookie_header(request: Request, token: str | None) -> str:
    """A Set-Cookie value: the session (HttpOnly, SameSite=Lax), or its removal when None."""
    response = Response()
    if token is None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    else:
        response.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()),
                            path="/", httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response.headers["set-cookie"]


def remember_session_cookie(request: Request, token: str | None) -> None:
    """Have this request's response (whatever it is) set or clear the session cookie."""
    setattr(request.state, _STATE_COOKIE, session_cookie_header(request, token))


class SessionCookieMiddleware:
    """Adds the session cookie a request asked for to its response (plain ASGI: streams pass)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            cookie = scope.get("state", {}).get(_STATE_COOKIE)
            if message["type"] == "http.response.start" and cookie:
                message["headers"] = [*message.get("headers", []),
                                      (b"set-cookie", cookie.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# --- installing -----------------------------------------------------------------------------

async def _on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.next_url), status_code=303)


async def _on_not_signed_in(request: Request, exc: Exception) -> Response:
    """401 as the app answers other errors (a page, or JSON for the API); HTMX is sent to
    the login page."""
    assert isinstance(exc, NotSignedIn)
    handler = request.app.exception_handlers.get(QunyunError)
    if handler is not None:
        response: Response = await handler(request, exc)
    else:
        response = JSONResponse(error_body(exc, request_locale(request)), status_code=exc.status)
    if is_htmx(request):
        page = urlsplit(request.headers.get("hx-current-url", ""))
        back = page.path + (f"?{page.query}" if page.query else "")
        response.headers["HX-Redirect"] = login_url(safe_return_path(back))
    return response


def install_auth(app: FastAPI, runtime: object = None) -> None:
    """Sign-in, sign-out, the account, audit and staff pages; the handlers and cookie upkeep.

    `runtime` is accepted for symmetry with the app factory; requests read it from app.state."""
    from qunyun.web import audit, auth, staff

    app.add_middleware(SessionCookieMiddleware)
    app.add_exception_handler(LoginRequired, _on_login_required)
    app.add_exception_handler(NotSignedIn, _on_not_signed_in)
    for module in (auth, audit, staff):
        app.include_router(module.router)
