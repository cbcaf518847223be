"""Chat commands as members type them: `签到`, `/签到`, `＃签到 `, `/signin`, `排行榜 周`.

A command is the message's first word after normalising width and case and dropping one
leading command sign; the rest of the text is its argument.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

COMMAND_SIGNS = "/#!"


@dataclass(frozen=True, slots=True)
class Command:
    word: str  # normalised
    argument: str  # the rest, stripped (original case)


@lru_cache(maxsize=1024)
def fold_width(text: str) -> str:
    """NFKC: full-width to half-width and compatibility forms to plain ones. Several features
    read each message and NFKC takes microseconds on text with full-width marks (？，！), so
    the last texts are remembered."""
    return unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, surrounding blanks removed."""
    return fold_width(text).strip().lower()


@lru_cache(maxsize=1024)  # each feature with commands asks about the same message
def parse_command(text: str) -> Command | None:
    """The command a message starts with; None for an empty message."""
    cleaned = fold_width(text).strip()
    if cleaned[:1] and cleaned[0] in COMMAND_SIGNS:
        cleaned = cleaned[1:].lstrip()
    if not cleaned:
        return None
    word, _, rest = cleaned.partition(" ")
    return Command(word.lower(), rest.strip())


def matches(text: str, keywords: Iterable[str]) -> Command | None:
    """The command if the message is one of `keywords` (with or without an argument)."""
    command = parse_command(text)
    if command is None:
        return None
    return command if command.word in {normalize(k) for k in keywords} else None
