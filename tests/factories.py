"""Small builders of canonical events (bridge protocol JSON) for tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

_ids = itertools.count(1)
BASE = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)


def at(minutes: float = 0) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


def event(type: str, *, group: str | None = "g1", member: str | None = "u1",
          minutes: float = 0, platform: str = "bridge", id: str | None = None,
          **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"v": 1, "id": id or f"e{next(_ids)}", "type": type,
                            "platform": platform, "at": at(minutes), "data": data}
    if group is not None:
        body["group"] = group
    if member is not None:
        body["member"] = member
    return body


def joined(member: str = "u1", *, name: str | None = None, **kw: Any) -> dict[str, Any]:
    return event("member.joined", member=member, name=name or member, **kw)


def left(member: str = "u1", *, reason: str = "quit", **kw: Any) -> dict[str, Any]:
    return event("member.left", member=member, reason=reason, **kw)


def message(member: str = "u1", text: str = "你好", **kw: Any) -> dict[str, Any]:
    return event("message.posted", member=member, message_id=f"m{next(_ids)}", kind="text",
                 text=text, **kw)
