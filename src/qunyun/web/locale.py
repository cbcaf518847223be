"""The dashboard's language: Chinese by default, English on request.

A `lang` cookie (set by `GET /lang/{code}`, which sends the browser back where it was) wins;
without it the browser's Accept-Language decides.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from qunyun.core.i18n import LOCALES, normalize_locale

LANG_COOKIE = "lang"
ONE_YEAR_S = 365 * 24 * 3600

router = APIRouter(include_in_schema=False)


def request_locale(request: Request) -> str:
    """The locale to render this request in."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    return normalize_locale(request.headers.get("accept-language"))


def safe_return_path(target: str | None, fallback: str = "/") -> str:
    """A path on this site to go back to; anything pointing elsewhere becomes `fallback`."""
    if not target:
        return fallback
    parts = urlsplit(target)
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or path.startswith("/lang/"):
        return fallback
    return f"{path}?{parts.query}" if parts.query else path


@router.get("/lang/{code}")
async def switch_language(code: str, request: Request, next: str | None = None) -> RedirectResponse:
    """Remember the language in a cookie and go back to the page the switch was clicked on."""
    locale = normalize_locale(code)
    back = safe_return_path(next or request.headers.get("referer"))
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(LANG_COOKIE, locale, max_age=ONE_YEAR_S, httponly=True, samesite="lax")
    return response
