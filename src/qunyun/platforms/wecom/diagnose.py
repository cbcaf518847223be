"""Diagnostics: the canonical events of one decrypted WeCom callback (XML).

A callback that gives no event at once yields `{"ignored": why}` (the re-fetch of the group, or
a later join, carries its news); XML that cannot be read raises ValueError.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from qunyun.core.events import parse_event
from qunyun.platforms.wecom.callbacks import (
    contact_state,
    parse_callback,
    translate,
    why_no_events,
)


def parse_payload(raw: str, received_at: datetime | None = None) -> list[dict[str, Any]]:
    """Bridge-protocol events for a decrypted callback, each checked against the protocol.
    `received_at` stands in for a missing CreateTime (default: now)."""
    callback = parse_callback(raw)
    codes = dict([state]) if (state := contact_state(callback)) else {}
    events = translate(callback, received_at or datetime.now(UTC), codes)
    for event in events:
        parse_event(event)  # a translation that breaks the protocol is a bug: let it show
    return events or [{"ignored": why_no_events(callback)}]
