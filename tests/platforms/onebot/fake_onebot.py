"""A protocol-faithful fake OneBot 11 implementation, on a real local WebSocket.

As the forward WebSocket server it listens on 127.0.0.1 (the universal `/` endpoint, access
token checked: 401 without, 403 wrong); as the reverse client it dials qunyun. Either way it
pushes the events a test gives it and answers API calls in the OneBot envelope
(`status`, `retcode`, `data`, `echo`), checking parameter types the way implementations do
(`group_id` and `user_id` numbers, `message` a string or segment array), with `retcode` 1404
for an unknown action, 1400 for bad parameters, and 100 where a test makes sends fail.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

SELF_ID = 10001


@dataclass
class Member:
    user_id: int
    nickname: str
    role: str = "member"
    card: str = ""
    join_time: int = 1_700_000_000


@dataclass
class FakeOneBot:
    access_token: str | None = None
    groups: dict[int, list[Member]] = field(default_factory=dict)
    fail_sends_in: set[int] = field(default_factory=set)  # groups where sends get retcode 100
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))
    _sockets: set[Any] = field(default_factory=set)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    refused: int = 0  # handshakes refused for a missing or wrong token
    server: Server | None = None

    # --- the API -------------------------------------------------------------------------

    def answer(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict) or not isinstance(request.get("action"), str):
            return {"status": "failed", "retcode": 1400, "data": None}
        action, params = request["action"], request.get("params") or {}
        echo = request.get("echo")
        handler = getattr(self, f"api_{action}", None)
        if handler is None:
            return {"status": "failed", "retcode": 1404, "data": None, "echo": echo}
        self.calls.append((action, params))
        try:
            data = handler(params)
        except (KeyError, TypeError, ValueError) as exc:
            return {"status": "failed", "retcode": 1400, "data": None, "msg": str(exc),
                    "echo": echo}
        if isinstance(data, dict) and data.get("retcode"):
            return {"status": "failed", "data": None, "echo": echo, **data}
        return {"status": "ok", "retcode": 0, "data": data, "echo": echo}

    @staticmethod
    def _number(params: dict[str, Any], key: str) -> int:
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{key} must be a number")
        return value

    @staticmethod
    def _message(params: dict[str, Any]) -> None:
        message = params["message"]
        if isinstance(message, str):
            return
        if not isinstance(message, list) or not all(
                isinstance(s, dict) and isinstance(s.get("type"), str)
                and isinstance(s.get("data"), dict) for s in message):
            raise TypeError("message must be a string or an array of segments")

    def api_send_group_msg(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._number(params, "group_id")
        self._message(params)
        if group in self.fail_sends_in:
            return {"retcode": 100, "msg": "SEND_MSG_API_ERROR", "wording": "请参考输出"}
        return {"message_id": next(self._message_ids)}

    def api_send_private_msg(self, params: dict[str, Any]) -> dict[str, Any]:
        self._number(params, "user_id")
        self._message(params)
        return {"message_id": next(self._message_ids)}

    def api_delete_msg(self, params: dict[str, Any]) -> None:
        self._number(params, "message_id")

    def api_set_group_ban(self, params: dict[str, Any]) -> None:
        self._number(params, "group_id")
        self._number(params, "user_id")
        self._number(params, "duration")

    def api_set_group_kick(self, params: dict[str, Any]) -> None:
        self._number(params, "group_id")
        self._number(params, "user_id")
        if not isinstance(params.get("reject_add_request", False), bool):
            raise TypeError("reject_add_request must be a boolean")

    def api_set_group_whole_ban(self, params: dict[str, Any]) -> None:
        self._number(params, "group_id")

    def api_set_group_add_request(self, params: dict[str, Any]) -> None:
        if not isinstance(params["flag"], str) or params["sub_type"] not in ("add", "invite"):
            raise ValueError("flag and sub_type (add or invite) are required")

    def api_get_group_list(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"group_id": g, "group_name": f"群{g}", "member_count": len(m),
                 "max_member_count": 500} for g, m in self.groups.items()]

    def api_get_group_member_list(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        group = self._number(params, "group_id")
        return [{"group_id": group, "user_id": m.user_id, "nickname": m.nickname,
                 "card": m.card, "role": m.role, "join_time": m.join_time,
                 "last_sent_time": m.join_time, "sex": "unknown", "age": 0}
                for m in self.groups.get(group, [])]

    # --- the socket ----------------------------------------------------------------------

    async def _talk(self, socket: ServerConnection | ClientConnection) -> None:
        self._sockets.add(socket)
        self.connected.set()
        try:
            async for frame in socket:
                try:
                    request = orjson.loads(frame)
                except orjson.JSONDecodeError:
                    request = None
                await socket.send(orjson.dumps(self.answer(request)).decode())
        except Exception:  # the other side went away
            pass
        finally:
            self._sockets.discard(socket)
            if not self._sockets:
                self.connected.clear()

    async def push(self, *frames: dict[str, Any] | str) -> None:
        """Send events (objects, or raw text for malformed frames) to every connection."""
        for frame in frames:
            text = frame if isinstance(frame, str) else orjson.dumps(frame).decode()
            for socket in list(self._sockets):
                await socket.send(text)

    def _check_token(self, connection: ServerConnection, request: Request) -> Response | None:
        if not self.access_token:
            return None
        header = request.headers.get("Authorization")
        if header != f"Bearer {self.access_token}":
            self.refused += 1
        if header is None:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "token required\n")
        if header != f"Bearer {self.access_token}":
            return connection.respond(HTTPStatus.FORBIDDEN, "token wrong\n")
        return None

    async def start_server(self) -> str:
        """Serve the forward WebSocket; the URL to dial."""
        self.server = await serve(self._talk, "127.0.0.1", 0,
                                  process_request=self._check_token)
        port = next(iter(self.server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/"

    async def stop_server(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def drop_connections(self) -> None:
        for socket in list(self._sockets):
            await socket.close()

    async def dial(self, url: str, *, role: str = "Universal",
                   token: str | None = None) -> asyncio.Task[None]:
        """Act as the reverse WebSocket client: connect to qunyun and serve the connection."""
        headers = Headers({"X-Self-ID": str(SELF_ID), "X-Client-Role": role})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        socket = await ws_connect(url, additional_headers=headers)
        return asyncio.create_task(self._talk(socket))


def group_message(message_id: int, group: int, user: int, message: Any, *, time: int,
                  nickname: str = "小王", **extra: Any) -> dict[str, Any]:
    """A `message.group` event as implementations send it."""
    raw = message if isinstance(message, str) else ""
    return {"time": time, "self_id": SELF_ID, "post_type": "message", "message_type": "group",
            "sub_type": "normal", "message_id": message_id, "group_id": group,
            "user_id": user, "anonymous": None, "message": message, "raw_message": raw,
            "font": 0, "sender": {"user_id": user, "nickname": nickname, "card": "",
                                  "sex": "unknown", "age": 0, "role": "member"}, **extra}


def notice(notice_type: str, group: int, user: int, *, time: int, **fields: Any
           ) -> dict[str, Any]:
    return {"time": time, "self_id": SELF_ID, "post_type": "notice",
            "notice_type": notice_type, "group_id": group, "user_id": user, **fields}
