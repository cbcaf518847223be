"""`qunyun platform parse --platform onebot FILE`: raw OneBot payloads → canonical events.

The file holds one OneBot event (a JSON object), a JSON array of them, or JSON Lines. Every
readable event gives its canonical events; an unreadable one gives a line with its reason.
"""

from __future__ import annotations

from typing import Any

import orjson

from qunyun.platforms.onebot.translate import Ignored, Malformed, translate


def _payloads(raw: str) -> list[Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        items: list[Any] = []
        for number, line in enumerate(raw.splitlines(), start=1):
            if line.strip():
                try:
                    items.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    items.append(Malformed(f"line {number} is not JSON: {exc}"))
        return items
    return value if isinstance(value, list) else [value]


def parse_payload(raw: str) -> list[dict[str, Any]]:
    """Canonical events (bridge protocol JSON) for the payloads in `raw`. Payloads that are
    not read give `{"rejected": reason}`; those with nothing for qunyun `{"ignored": what}`."""
    out: list[dict[str, Any]] = []
    for payload in _payloads(raw):
        if isinstance(payload, Malformed):
            out.append({"rejected": str(payload)})
            continue
        try:
            out.extend(translate(payload))
        except Malformed as exc:
            out.append({"rejected": str(exc)})
        except Ignored as exc:
            out.append({"ignored": str(exc)})
    return out
