"""Every error leaves the API in one shape: `{"code", "message", "errors": [{"path", "reason"}]}`.

Messages are translated with the request's `Accept-Language` (zh_CN by default, en second).
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from qunyun.core.config import pydantic_errors
from qunyun.core.errors import ErrorCollector, InvalidInput, NotFound, QunyunError, Unauthorized
from qunyun.core.i18n import N_, normalize_locale


class BadRequest(QunyunError):
    code = "bad_request"
    status = 400


class PayloadTooLarge(QunyunError):
    code = "payload_too_large"
    status = 413


class MethodNotAllowed(QunyunError):
    code = "method_not_allowed"
    status = 405


class InternalError(QunyunError):
    code = "internal_error"
    status = 500


class HttpError(QunyunError):
    """Any other HTTP error raised by the framework; its status is set per instance."""

    code = "http_error"

    def __init__(self, message: str, *, status: int, **params: Any) -> None:
        super().__init__(message, **params)
        self.status = status


def error_body(exc: QunyunError, locale: str) -> dict[str, Any]:
    body = exc.as_dict(locale)
    body.setdefault("errors", [])
    return body


def error_response(exc: QunyunError, request: Request,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    locale = normalize_locale(request.headers.get("accept-language"))
    headers = dict(headers or {})
    if isinstance(exc, Unauthorized):
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(error_body(exc, locale), status_code=exc.status, headers=headers)


def validation_error(exc: RequestValidationError) -> InvalidInput:
    """FastAPI's request validation errors as our field errors (`query.limit`, `body.name`)."""
    items = list(exc.errors())
    collector = ErrorCollector()
    rest = []
    for item in items:
        if item.get("type") == "json_invalid":
            reason = str((item.get("ctx") or {}).get("error", ""))
            collector.add("body", "is not valid JSON: {detail}", detail=reason)
        else:
            rest.append(item)
    errors = collector.errors
    if rest:
        # pydantic_errors reads nothing but `.errors()`: hand it the remaining items that way.
        errors += pydantic_errors(cast(ValidationError, _Errors(rest)))
    return InvalidInput("the request is invalid", errors=errors)


class _Errors:
    """A list of error items seen through the one method pydantic_errors calls."""

    def __init__(self, items: list[Any]) -> None:
        self._items = items

    def errors(self) -> list[Any]:
        return self._items


async def _on_qunyun_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(cast(QunyunError, exc), request)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(validation_error(cast(RequestValidationError, exc)), request)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    http = cast(HTTPException, exc)
    error: QunyunError
    if http.status_code == 404:
        error = NotFound("no such endpoint: {path}", path=request.url.path)
    elif http.status_code == 405:
        error = MethodNotAllowed(N_("method {method} is not allowed here"),
                                 method=request.method)
    else:
        error = HttpError(str(http.detail), status=http.status_code)
    return error_response(error, request, dict(http.headers or {}))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The server still logs the exception with its traceback; the client gets our shape.
    return error_response(InternalError(N_("something went wrong on the server")), request)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(QunyunError, _on_qunyun_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
