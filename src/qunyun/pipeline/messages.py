"""Finding an earlier message of a group by its platform message id, for features.

The event log keeps every posted message with its message id (`message_ref`); messages of
the batch being processed are not written yet, so they are looked up in its pending rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.events import MESSAGE_POSTED
from qunyun.core.features import MessageInfo, MessageLookup
from qunyun.pipeline.models import EventRecord


def message_ref(event_type: str, data: Any) -> str | None:
    """The value of the log's `message_ref` column for an event."""
    return str(data["message_id"]) if event_type == MESSAGE_POSTED else None


def message_finder(session: AsyncSession, pending: Sequence[dict[str, Any]], before: int,
                   group_id: int | None) -> MessageLookup:
    """Look up messages in the log and in `pending[:before]` (the batch's unwritten rows)."""

    async def find(message_id: str) -> MessageInfo | None:
        if group_id is None:
            return None
        for index in range(before - 1, -1, -1):
            row = pending[index]
            if row["group_id"] == group_id and row["message_ref"] == message_id:
                return _info(row["person_id"], row["body"])
        found = (await session.execute(
            select(EventRecord.person_id, EventRecord.body)
            .where(EventRecord.group_id == group_id, EventRecord.message_ref == message_id)
            .order_by(EventRecord.seq.desc()).limit(1))).one_or_none()
        return None if found is None else _info(found.person_id, found.body)

    return find


def _info(person_id: int | None, body: str) -> MessageInfo:
    event = orjson.loads(body)
    data = event.get("data", {})
    return MessageInfo(
        event_id=event["id"], message_id=data["message_id"], person_id=person_id,
        member=event.get("member"), name=data.get("name") or event.get("member") or "",
        at=datetime.fromisoformat(event["at"]), kind=data.get("kind", "text"),
        text=data.get("text", ""))

