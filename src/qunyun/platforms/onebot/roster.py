"""Roster sync: the members of every group the bot is in, through `get_group_list` and
`get_group_member_list`, as canonical events marked imported (history, never acted on).

Each member becomes a `member.joined` at their join time (a join qunyun already knows changes
nothing), and owners and admins a `member.role_changed`. Event ids are derived from the data,
so syncing the same roster twice is a duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from qunyun.core import events as E
from qunyun.platforms.onebot.link import ApiLink, LinkDown
from qunyun.platforms.onebot.translate import CHINA, PLATFORM


def _ok_data(answer: dict[str, Any], api: str) -> Any:
    if answer.get("status") not in ("ok", None) or answer.get("retcode") not in (0, None):
        raise LinkDown(f"{api} failed: retcode {answer.get('retcode')} {answer.get('msg', '')}")
    return answer.get("data")


def member_events(group: str, members: list[Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for item in members:
        if not isinstance(item, dict) or item.get("user_id") is None:
            continue
        user = str(item["user_id"])
        joined = item.get("join_time")
        seconds = joined if isinstance(joined, int) and joined > 0 else 0
        at = datetime.fromtimestamp(seconds, CHINA).isoformat()
        name = str(item.get("card") or item.get("nickname") or "")[:200]
        events.append({"v": 1, "id": f"roster:{group}:{user}:{seconds}",
                       "type": E.MEMBER_JOINED, "platform": PLATFORM, "group": group,
                       "member": user, "at": at, "imported": True,
                       "data": {"name": name, "via": "other"}})
        role = item.get("role")
        if role in ("owner", "admin"):
            events.append({"v": 1, "id": f"roster-role:{group}:{user}:{role}",
                           "type": E.MEMBER_ROLE_CHANGED, "platform": PLATFORM,
                           "group": group, "member": user, "at": at, "imported": True,
                           "data": {"role": role}})
    return events


async def group_ids(link: ApiLink) -> list[str]:
    data = _ok_data(await link.call("get_group_list", {}), "get_group_list")
    return [str(g["group_id"]) for g in data or () if isinstance(g, dict) and "group_id" in g]


async def roster_events(link: ApiLink, group: str) -> list[dict[str, Any]]:
    if not group.isdigit():
        raise LinkDown(f"get_group_list gave a group id that is not a number: {group[:40]}")
    answer = await link.call("get_group_member_list", {"group_id": int(group)})
    data = _ok_data(answer, "get_group_member_list")
    return member_events(group, data if isinstance(data, list) else [])
