"""Signing in and out, and changing one's password.

The sign-in form carries its own CSRF token (a cookie and a hidden field that must match), since
there is no session yet; every form after sign-in uses the session's token.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from qunyun.api.deps import get_runtime
from qunyun.community.staff_service import MIN_PASSWORD, do_change_password
from qunyun.community.staff_sessions import (
    TooManyAttempts,
    do_sign_in,
    do_sign_out,
    record_sign_in,
    staff_principal,
)
from qunyun.core.errors import InvalidInput, QunyunError, Unauthorized
from qunyun.core.i18n import N_, gettext
from qunyun.web.deps import (
    SESSION_COOKIE,
    CsrfToken,
    CurrentPrincipal,
    VerifiedCsrf,
    live_session,
    remember_session_cookie,
    same_secret,
)
from qunyun.web.locale import request_locale, safe_return_path
from qunyun.web.staff_forms import field_messages, render

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "qunyun_login_csrf"
FORM_EXPIRED = N_("the form has expired; reload the page and try again")


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(request: Request, *, next_url: str, username: str = "", error: str = "",
                status: int = 200) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "auth/login.html", login_csrf=token, next_url=next_url,
                      username=username, error=error, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", path="/login",
                        secure=request.url.scheme == "https")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    next_url = safe_return_path(next)
    if await live_session(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    return _login_page(request, next_url=next_url)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, username: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/") -> Response:
    next_url = safe_return_path(next)
    locale = request_locale(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not same_secret(csrf_token, expected):
        return _login_page(request, next_url=next_url, username=username, status=403,
                           error=gettext(FORM_EXPIRED, locale))
    if not username.strip() or not password:
        return _login_page(request, next_url=next_url, username=username, status=422,
                           error=gettext("enter your username and password", locale))
    runtime = get_runtime(request)
    at = runtime.clock.now()
    async with runtime.write_sessions() as session:
        try:
            signed = await do_sign_in(session, username=username, password=password,
                                      ip=_client_ip(request), at=at)
        except (Unauthorized, TooManyAttempts) as exc:
            await session.commit()  # the failed attempt counts
            return _login_page(request, next_url=next_url, username=username,
                               error=exc.render(locale), status=exc.status)
        principal = await staff_principal(session, signed.user, locale)
        await record_sign_in(session, principal=principal, ip=_client_ip(request), at=at)
        await session.commit()
    remember_session_cookie(request, signed.token)
    response = RedirectResponse(next_url, status_code=303)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, _csrf: VerifiedCsrf) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with get_runtime(request).write_sessions() as session:
            await do_sign_out(session, token)
            await session.commit()
    remember_session_cookie(request, None)
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password", response_class=HTMLResponse)
async def password_form(request: Request, principal: CurrentPrincipal, csrf: CsrfToken,
                        done: bool = False) -> HTMLResponse:
    return render(request, "auth/password.html", principal=principal, csrf=csrf, errors={},
                  done=done, min_length=MIN_PASSWORD)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(request: Request, principal: CurrentPrincipal, csrf: CsrfToken,
                          _csrf: VerifiedCsrf, current: Annotated[str, Form()] = "",
                          new: Annotated[str, Form()] = "",
                          confirm: Annotated[str, Form()] = "") -> Response:
    live = await live_session(request)
    assert live is not None  # CurrentPrincipal ensured it
    runtime = get_runtime(request)
    async with runtime.write_sessions() as session:
        try:
            await do_change_password(session, principal=principal, current=current, new=new,
                                     confirm=confirm, at=runtime.clock.now(),
                                     keep_session_id=live.session.id)
        except InvalidInput as exc:
            return _password_error(request, principal, csrf, exc)
        await session.commit()
    return RedirectResponse("/account/password?done=1", status_code=303)


def _password_error(request: Request, principal: CurrentPrincipal, csrf: str,
                    exc: QunyunError) -> HTMLResponse:
    errors = field_messages(exc, request_locale(request))
    return render(request, "auth/password.html", principal=principal, csrf=csrf, errors=errors,
                  done=False, min_length=MIN_PASSWORD, status=exc.status)
