"""Update payloads: the shared real samples, and builders written from the Bot API reference."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import shared_data

GROUP = -1001234567890
BASE_DATE = 1_763_769_600  # 2025-11-22T00:00:00Z


def peer_samples(test: str) -> list[dict[str, Any]]:
    """Lines of the peer test file for one test function (raw_json parsed)."""
    path = shared_data("telegram", "bot_api_updates", "pytelegrambotapi_test_types_json.jsonl")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["test"] == test:
            out.append({**item, "raw": json.loads(item["raw_json"])})
    return out


def my_chat_member_samples() -> list[dict[str, Any]]:
    path = shared_data("telegram", "bot_api_updates", "autogram_real_my_chat_member_updates.json")
    items: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return items


def user(user_id: int, first_name: str = "User", **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, **extra}


def group_message(update_id: int, message_id: int, sender: dict[str, Any], *,
                  chat: int = GROUP, chat_type: str = "supergroup", date: int = BASE_DATE,
                  **fields: Any) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": message_id, "from": sender, "date": date,
        "chat": {"id": chat, "type": chat_type, "title": "Fans"}, **fields}}


def chat_member(update_id: int, subject: dict[str, Any], old: str, new: str, *,
                actor: dict[str, Any] | None = None, chat: int = GROUP,
                **fields: Any) -> dict[str, Any]:
    return {"update_id": update_id, "chat_member": {
        "chat": {"id": chat, "type": "supergroup", "title": "Fans"},
        "from": actor or subject, "date": BASE_DATE,
        "old_chat_member": {"user": subject, "status": old},
        "new_chat_member": {"user": subject, "status": new}, **fields}}
