"""Operators' regular expressions: checked when loaded, guarded when run.

A pattern is compiled with the `regex` module (case-insensitive). A pattern that does not
compile is an InvalidInput naming the settings path and the character where it fails
(1-based), a pattern that is empty, too long or matches the empty text (it would catch every
message) likewise. At run time every search has a time budget (`TIMEOUT_SECONDS`): a pattern
that backtracks catastrophically on some text gives up on that text and reports no match, and
the give-ups are counted so the dashboard can show a pattern that needs rewriting.
"""

from __future__ import annotations

import regex

from qunyun.core.errors import FieldError, InvalidInput
from qunyun.core.i18n import N_

TIMEOUT_SECONDS = 0.05
MAX_PATTERN_CHARS = 500


class GuardedRegex:
    """A compiled pattern whose searches give up after `TIMEOUT_SECONDS`."""

    __slots__ = ("_compiled", "path", "pattern", "timeouts")

    def __init__(self, pattern: str, compiled: regex.Pattern[str], *, path: str) -> None:
        self.pattern = pattern
        self.path = path
        self._compiled = compiled
        self.timeouts = 0  # searches that gave up

    def search(self, text: str) -> tuple[int, int] | None:
        """The span of the first match, or None (also when the search ran out of time)."""
        try:
            match = self._compiled.search(text, timeout=TIMEOUT_SECONDS)
        except TimeoutError:
            self.timeouts += 1
            return None
        return match.span() if match is not None else None

    def __repr__(self) -> str:
        return f"GuardedRegex({self.pattern!r})"


def compile_guarded(pattern: str, *, path: str) -> GuardedRegex:
    """Compile `pattern` or raise InvalidInput naming `path` and the failing character."""
    if not pattern.strip():
        raise _invalid(path, N_("the pattern is empty"))
    if len(pattern) > MAX_PATTERN_CHARS:
        raise _invalid(path, N_("the pattern is too long ({length} characters, at most {limit})"),
                       length=len(pattern), limit=MAX_PATTERN_CHARS)
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE)
    except regex.error as error:
        position = error.pos if error.pos is not None else 0
        raise _invalid(path, N_("{error} at character {position}: {context}"),
                       error=error.msg, position=position + 1,
                       context=_context(pattern, position)) from None
    guarded = GuardedRegex(pattern, compiled, path=path)
    if guarded.search("") is not None:
        raise _invalid(path, N_("the pattern matches empty text, so it would catch every "
                                "message"))
    return guarded


def _context(pattern: str, position: int) -> str:
    """The pattern with a marker where it fails: "ab(c" at 4 -> "ab(c⟵"."""
    return pattern[:position] + "⟵" + pattern[position:]


def _invalid(path: str, reason: str, **params: object) -> InvalidInput:
    error = FieldError(path, reason, tuple(sorted(params.items())))
    return InvalidInput(N_("Invalid regular expression at {path}."), path=path, errors=[error])
