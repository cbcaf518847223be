"""For operators and bridge authors: a raw Telegram payload → the canonical events it yields.

Accepted forms: one update object, a JSON array of updates, a `getUpdates` answer
(`{"ok": true, "result": [...]}`) or JSON Lines of updates. Every event produced is checked
against the bridge protocol. An update that is not what the Bot API sends gives
`{"rejected": reason}`; a well-formed one with nothing for qunyun gives `{"ignored": why}`.
A payload that is not JSON at all raises ValueError.
"""

from __future__ import annotations

import json
from typing import Any

from qunyun.core.events import parse_event
from qunyun.platforms.telegram.translate import Malformed, MemberSource, translate_update


def _updates(raw: str) -> list[Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        lines = [line for line in raw.splitlines() if line.strip()]
        try:
            return [json.loads(line) for line in lines]
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON or JSON Lines: {exc}") from exc
    if isinstance(value, dict) and isinstance(value.get("result"), list) and "ok" in value:
        return list(value["result"])
    return value if isinstance(value, list) else [value]


def parse_payload(raw: str, member_source: MemberSource = "chat_member") -> list[dict[str, Any]]:
    """The canonical events (bridge protocol JSON) of a raw payload, in order."""
    out: list[dict[str, Any]] = []
    for index, update in enumerate(_updates(raw)):
        try:
            translated = translate_update(update, member_source)
        except Malformed as exc:
            out.append({"rejected": f"update {index}: {exc}"})
            continue
        for event in translated.events:
            parse_event(event)  # a translation that breaks the protocol is a bug: let it show
            out.append(event)
        if not translated.events and translated.ignored:
            out.append({"ignored": f"update {index}: {translated.ignored}"})
    return out
