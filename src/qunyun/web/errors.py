"""Errors on dashboard pages are pages: 403 and 404 say what happened in the user's language.

The API under `/api/` keeps its JSON error shape; these handlers hand its requests back to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from qunyun.api.errors import BadRequest, error_response, validation_error
from qunyun.core.errors import Forbidden, NotFound, QunyunError
from qunyun.core.i18n import N_
from qunyun.web import deps
from qunyun.web.templating import render

API_PREFIX = "/api/"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


async def _signed_in(request: Request) -> dict[str, Any]:
    """The principal and CSRF token, so the error page keeps the menu of a signed-in user."""
    try:
        return {"principal": await deps.current_principal(request),
                "csrf_token": await deps.csrf_token(request)}
    except (deps.LoginRequired, QunyunError):
        return {}


async def error_page(request: Request, exc: QunyunError) -> Response:
    """The error as a page, in the user's language, with the menu when signed in."""
    context = {"error": exc, "status": exc.status, **await _signed_in(request)}
    return render(request, "error.html", context, status_code=exc.status)


Handler = Callable[[Request, Exception], Awaitable[Response]]


async def _on_qunyun_error(request: Request, exc: Exception) -> Response:
    error = cast(QunyunError, exc)
    if _is_api(request):
        return error_response(error, request)
    return await error_page(request, error)


def _http_error_handler(api_handler: Handler | None) -> Handler:
    async def on_http_error(request: Request, exc: Exception) -> Response:
        http = cast(HTTPException, exc)
        if api_handler is not None and (_is_api(request) or http.status_code not in (404, 405)):
            return await api_handler(request, exc)
        if http.status_code == 404:
            return await error_page(request, NotFound(N_("there is no page at {path}"),
                                                path=request.url.path))
        return await error_page(request, Forbidden(N_("this page cannot be used that way")))
    return on_http_error


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    error = validation_error(cast(RequestValidationError, exc))
    if _is_api(request):
        return error_response(error, request)
    return await error_page(request, BadRequest(N_("the address of this page is not valid"),
                                          errors=error.errors))


def install_error_pages(app: FastAPI) -> None:
    """Replace the app-wide handlers by ones that answer pages with pages, the API with JSON."""
    app.add_exception_handler(QunyunError, _on_qunyun_error)
    api_handler = cast(Handler | None, app.exception_handlers.get(HTTPException))
    app.add_exception_handler(HTTPException, _http_error_handler(api_handler))
    app.add_exception_handler(RequestValidationError, _on_validation_error)
