"""One error base with a code and a user-facing message; API and chat replies render it.

Messages are English message ids with `{placeholders}`; `render(locale)` translates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticCustomError

from qunyun.core.i18n import DEFAULT_LOCALE, gettext


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong with an input: where (a dotted path) and why (message id and params)."""

    path: str
    reason: str
    params: tuple[tuple[str, Any], ...] = ()

    def render(self, locale: str = DEFAULT_LOCALE) -> str:
        reason = gettext(self.reason, locale, **dict(self.params))
        return f"{self.path}: {reason}" if self.path else reason

    def __str__(self) -> str:
        return self.render("en")


class QunyunError(Exception):
    """Base of every error a user may see. `code` is stable; the message is translated on render."""

    code = "error"
    status = 400

    def __init__(
        self, message: str, *, errors: list[FieldError] | None = None, **params: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        self.errors: list[FieldError] = errors or []

    def render(self, locale: str = DEFAULT_LOCALE) -> str:
        return gettext(self.message, locale, **self.params)

    def __str__(self) -> str:
        lines = [self.render("en"), *(f"  {e}" for e in self.errors)]
        return "\n".join(lines)

    def as_dict(self, locale: str = DEFAULT_LOCALE) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.render(locale)}
        if self.errors:
            body["errors"] = [
                {"path": e.path, "reason": gettext(e.reason, locale, **dict(e.params))}
                for e in self.errors
            ]
        return body


class InvalidInput(QunyunError):
    code = "invalid_input"
    status = 422


class NotFound(QunyunError):
    code = "not_found"
    status = 404


class Forbidden(QunyunError):
    code = "forbidden"
    status = 403


class Unauthorized(QunyunError):
    code = "unauthorized"
    status = 401


class Conflict(QunyunError):
    code = "conflict"
    status = 409


@dataclass(slots=True)
class ErrorCollector:
    """Gathers field errors so validation can report all of them at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, path: str, reason: str, **params: Any) -> None:
        self.errors.append(FieldError(path, reason, tuple(sorted(params.items()))))

    def __bool__(self) -> bool:
        return bool(self.errors)


SETTINGS_ERROR = "qunyun_settings"


def settings_error(reason: str, **params: object) -> PydanticCustomError:
    """Raise from a settings validator: `reason` is a message id (mark it with N_) with
    `{placeholders}` filled from `params`; it reaches the user translated, with the key path."""
    return PydanticCustomError(SETTINGS_ERROR, reason, {"reason": reason, **params})
