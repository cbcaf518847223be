"""A fake WeCom server API (qyapi) at protocol level, for httpx.MockTransport.

It issues access tokens that expire, answers 40014 for an unknown token and 42001 for an expired
one, 40001 for a wrong secret, 45009 once a corp calls one API more than its per-minute or
per-hour quota, and keeps customer groups, mass-send tasks and welcome templates. Time is the
fake's own (`now`, seconds), so tests move it without sleeping.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict, deque
from typing import Any

import httpx

API_BASE = "https://qyapi.weixin.qq.com"


class FakeWecom:
    def __init__(self, corp_id: str, secret: str, *, per_minute: int = 10_000,
                 per_hour: int = 150_000, token_lifetime: int = 7200) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.token_lifetime = token_lifetime
        self.now = 1_000.0
        self.tokens: dict[str, float] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.mass_sends: list[dict[str, Any]] = []
        self.welcome_templates: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.refused: Counter[int] = Counter()
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._ids = itertools.count(1)

    # --- test controls ---------------------------------------------------------------------

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    def expire_tokens(self) -> None:
        self.tokens = {token: self.now - 1 for token in self.tokens}

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def add_group(self, chat_id: str, name: str, owner: str, members: list[dict[str, Any]],
                  notice: str = "") -> dict[str, Any]:
        group = {"chat_id": chat_id, "name": name, "owner": owner, "create_time": 1_700_000_000,
                 "notice": notice, "member_list": members, "admin_list": []}
        self.groups[chat_id] = group
        return group

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- the protocol ----------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls[path] += 1
        if (refusal := self._quota(path)) is not None:
            return refusal
        if path == "/cgi-bin/gettoken":
            return self._gettoken(request)
        token = request.url.params.get("access_token", "")
        if token not in self.tokens:
            return self._error(40014, "invalid access_token")
        if self.tokens[token] <= self.now:
            return self._error(42001, "access_token expired")
        body = json.loads(request.content or b"{}")
        routes = {
            "/cgi-bin/externalcontact/groupchat/list": self._groupchat_list,
            "/cgi-bin/externalcontact/groupchat/get": self._groupchat_get,
            "/cgi-bin/externalcontact/add_msg_template": self._add_msg_template,
            "/cgi-bin/externalcontact/group_welcome_template/add": self._welcome_add,
        }
        if path not in routes:
            return httpx.Response(404, text="not found")
        return routes[path](body)

    def _ok(self, **body: Any) -> httpx.Response:
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", **body})

    def _error(self, code: int, message: str) -> httpx.Response:
        self.refused[code] += 1
        return httpx.Response(200, json={"errcode": code, "errmsg": message})

    def _quota(self, path: str) -> httpx.Response | None:
        seen = self._seen[path]
        while seen and seen[0] <= self.now - 3600:
            seen.popleft()
        last_minute = sum(1 for at in seen if at > self.now - 60)
        if last_minute >= self.per_minute or len(seen) >= self.per_hour:
            return self._error(45009, "api freq out of limit")
        seen.append(self.now)
        return None

    def _gettoken(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params.get("corpid") != self.corp_id or params.get("corpsecret") != self.secret:
            return self._error(40001, "invalid credential")
        token = f"tok{next(self._ids)}"
        self.tokens[token] = self.now + self.token_lifetime
        return self._ok(access_token=token, expires_in=self.token_lifetime)

    def _groupchat_list(self, body: dict[str, Any]) -> httpx.Response:
        limit = int(body.get("limit") or 100)
        start = int(body.get("cursor") or 0)
        ids = sorted(self.groups)
        page = ids[start:start + limit]
        more = start + limit < len(ids)
        return self._ok(group_chat_list=[{"chat_id": c, "status": 0} for c in page],
                        next_cursor=str(start + limit) if more else "")

    def _groupchat_get(self, body: dict[str, Any]) -> httpx.Response:
        group = self.groups.get(str(body.get("chat_id")))
        if group is None:
            return self._error(40058, "invalid chat_id")
        if body.get("need_name") != 1:
            group = {**group, "member_list": [
                {k: v for k, v in m.items() if k != "name"} for m in group["member_list"]]}
        return self._ok(group_chat=group)

    def _add_msg_template(self, body: dict[str, Any]) -> httpx.Response:
        if body.get("chat_type") != "group" or not body.get("sender"):
            return self._error(41048, "sender required for group mass-send")
        msgid = f"msg{next(self._ids)}"
        self.mass_sends.append({**body, "msgid": msgid})
        return self._ok(fail_list=[], msgid=msgid)

    def _welcome_add(self, body: dict[str, Any]) -> httpx.Response:
        template_id = f"msgTPL{next(self._ids)}"
        self.welcome_templates[template_id] = body
        return self._ok(template_id=template_id)
