"""Message entities: Telegram counts `offset` and `length` in UTF-16 code units, not characters.

Slicing a Python string (code points) by those numbers picks the wrong characters as soon as an
emoji or any character outside the Basic Multilingual Plane comes before the entity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of `text` an entity covers."""
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2:(offset + length) * 2].decode("utf-16-le", errors="replace")


@dataclass(slots=True)
class Extracted:
    """What the canonical event needs from a message's entities."""

    mentions: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


def _add(items: list[str], value: str) -> None:
    if value and value not in items:
        items.append(value)


def extract(text: str, entities: Iterable[Mapping[str, Any]]) -> Extracted:
    """Mentions (user ids from `text_mention`, `@username` from `mention`), links and hashtags."""
    found = Extracted()
    for entity in entities:
        kind = entity.get("type")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            continue
        piece = utf16_slice(text, offset, length)
        if kind == "text_mention" and isinstance(entity.get("user"), dict):
            _add(found.mentions, str(entity["user"].get("id", "")))
        elif kind == "mention":
            _add(found.mentions, piece.strip())
        elif kind == "url":
            _add(found.urls, piece.strip())
        elif kind == "text_link" and isinstance(entity.get("url"), str):
            _add(found.urls, entity["url"])
        elif kind == "hashtag":
            _add(found.hashtags, piece.strip())
    return found
