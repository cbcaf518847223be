"""The dashboard's Jinja2 environment and `render`.

Every template gets `_` (translating into the request's locale, `{name}` placeholders filled),
`locale`, `static_url`, and defaults for `csrf_token`, `principal` and `timezone` (pages pass
theirs: see `qunyun.web.viewer`); the `number`, `datetime` and `date`
filters show values in the page's time zone (the community's), `json` shows a value as JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_decimal
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from qunyun.core.i18n import gettext
from qunyun.web.locale import request_locale

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
DEFAULT_TIMEZONE = "Asia/Shanghai"
STATE_KEY = "dashboard_templates"


def build_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(number=format_number, datetime=format_datetime, date=format_date,
                       json=show_json)
    env.globals["static_url"] = static_url
    return env


def install_templates(app: FastAPI) -> Environment:
    env = build_environment()
    setattr(app.state, STATE_KEY, env)
    return env


def environment(request: Request) -> Environment:
    env: Environment = getattr(request.app.state, STATE_KEY)
    return env


def translator(locale: str) -> Any:
    def translate(message: str, **params: object) -> str:
        return gettext(message, locale, **params)
    return translate


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def base_context(request: Request) -> dict[str, Any]:
    """What every page needs from the request itself (the page adds `principal` and its data)."""
    locale = request_locale(request)
    return {"request": request, "locale": locale, "_": translator(locale),
            "csrf_token": "", "principal": None, "timezone": DEFAULT_TIMEZONE}


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           status_code: int = 200, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """Render `template` with the base context and `context` into an HTML response."""
    values = {**base_context(request), **(context or {})}
    html = environment(request).get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))


# --- static files ----------------------------------------------------------------------------

@cache
def _fingerprint(path: str) -> str:
    file = STATIC_DIR / path
    if not file.is_file():
        return "0"
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10]


def static_url(path: str) -> str:
    """The URL of a static file, with a content fingerprint so browsers never keep a stale one."""
    return f"/static/{path}?v={_fingerprint(path)}"


# --- filters -----------------------------------------------------------------------------------

@cache
def _babel_locale(name: str) -> Locale:
    """Parsed once: Babel looks for its locale data on disk each time it parses a name."""
    return Locale.parse(name)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(context: Context, value: datetime) -> datetime:
    zone = context.get("timezone") or DEFAULT_TIMEZONE
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(_zone(zone))


def show_json(value: Any) -> str:
    """A value as JSON text for people to read (Chinese stays Chinese); escaped when shown."""
    return json.dumps(value, ensure_ascii=False)


@pass_context
def format_number(context: Context, value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    pattern = "#,##0" if not digits else "#,##0." + "0" * digits
    return str(format_decimal(value, format=pattern,
                              locale=_babel_locale(context.get("locale") or "zh_CN")))


@pass_context
def format_datetime(context: Context, value: datetime | None,
                    pattern: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "–"
    return _local(context, value).strftime(pattern)


@pass_context
def format_date(context: Context, value: datetime | date | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = _local(context, value).date()
    return value.isoformat()
