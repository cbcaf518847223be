"""The Telegram adapter: canonical actions → Bot API calls. It translates; it never decides."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from qunyun.core import actions as A
from qunyun.core.actions import Action
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits
from qunyun.platforms.telegram.client import BotApi, BotApiError
from qunyun.platforms.telegram.entities import utf16_len
from qunyun.platforms.telegram.guard import SendGuard
from qunyun.platforms.telegram.translate import (
    INVITE_LINK_PREFIX,
    MemberSource,
    Translation,
    translate_update,
)

log = logging.getLogger(__name__)

# Delivery's buckets for Telegram. Per group 19/60 with burst 1: never 20 in a minute, always
# over a second apart. Overall 30/s with burst 30: delivery takes up to a second's worth in one
# round, and the guard (exact sliding windows) paces them under 30 in any second by waiting.
TELEGRAM_RATE_LIMITS = RateLimits(RateLimit(30.0, 30.0), RateLimit(19 / 60, 1.0))
CAPABILITIES = frozenset({
    A.SEND_MESSAGE, A.SEND_PRIVATE_MESSAGE, A.DELETE_MESSAGE, A.MUTE_MEMBER, A.KICK_MEMBER,
    A.MUTE_ALL, A.SET_ANNOUNCEMENT, A.APPROVE_JOIN, A.REJECT_JOIN, A.SEND_INVITE_LINK,
})
SEND_PERMISSIONS = ("can_send_messages", "can_send_audios", "can_send_documents",
                    "can_send_photos", "can_send_videos", "can_send_video_notes",
                    "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
                    "can_add_web_page_previews")
MIN_RESTRICT_S = 30  # Telegram treats a shorter restriction as "forever"
MAX_GUARD_SLEEP_S = 1.0
DELIVERED_KEPT = 20_000
NAMES_KEPT = 50_000
Call = Callable[["TelegramPlatform", Action], Awaitable[DeliveryResult]]


class TelegramPlatform:
    name = "telegram"
    capabilities = CAPABILITIES

    def __init__(self, api: BotApi, *, rate_limits: RateLimits = TELEGRAM_RATE_LIMITS,
                 guard: SendGuard | None = None, clock_s: Callable[[], float] | None = None,
                 member_source: MemberSource = "chat_member") -> None:
        self.api = api
        self.rate_limits = rate_limits
        self.guard = guard or SendGuard()
        self.member_source: MemberSource = member_source
        self._clock_s = clock_s  # Unix seconds, for mute deadlines (tests inject one)
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._names: OrderedDict[str, str] = OrderedDict()
        self._migrated: dict[str, str] = {}

    # --- inbound ---------------------------------------------------------------------------

    def translate(self, update: Any) -> Translation:
        """Translate one update (raises Malformed) and remember the names it shows."""
        result = translate_update(update, self.member_source)
        for user_id, name in result.names.items():
            self._names[user_id] = name
            self._names.move_to_end(user_id)
        while len(self._names) > NAMES_KEPT:
            self._names.popitem(last=False)
        for event in result.events:
            if event["type"] == "group.migrated":
                self.remember_migration(event["group"], event["data"]["to"])
        return result

    def remember_migration(self, old: str, new: str) -> None:
        self._migrated[old] = new

    def chat_for(self, group: str) -> str:
        """The chat id to send to: a migrated group's new supergroup id."""
        seen: set[str] = set()
        while group in self._migrated and group not in seen:
            seen.add(group)
            group = self._migrated[group]
        return group

    # --- outbound --------------------------------------------------------------------------

    async def deliver(self, action: Action) -> DeliveryResult:
        if action.id in self._delivered:  # a retried action that already went: one effect
            return DeliveryResult("done")
        handler = HANDLERS.get(action.type)
        if handler is None:
            return DeliveryResult("unsupported",
                                  reason=f"{action.type} is not possible on Telegram")
        try:
            result = await handler(self, action)
        except BotApiError as exc:
            result = _from_error(exc)
        except (KeyError, ValueError, TypeError) as exc:
            result = DeliveryResult("failed", reason=f"malformed action: {exc}")
        if result.status == "done":
            self._delivered[action.id] = None
            while len(self._delivered) > DELIVERED_KEPT:
                self._delivered.popitem(last=False)
        return result

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """One API call; a 'group was upgraded' answer is followed to the new supergroup once."""
        try:
            return await self.api.call(method, params)
        except BotApiError as exc:
            if exc.migrate_to_chat_id is None or "chat_id" not in params:
                raise
            self.remember_migration(str(params["chat_id"]), str(exc.migrate_to_chat_id))
            return await self.api.call(method, {**params, "chat_id": exc.migrate_to_chat_id})

    async def send(self, chat_id: str, params: dict[str, Any]) -> Any:
        """sendMessage within the limits: wait briefly, or ask delivery to come back later."""
        wait = self.guard.wait_time(chat_id)
        if wait > MAX_GUARD_SLEEP_S:
            raise BotApiError(429, "held back by the local rate guard", retry_after=wait)
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            return await self.call("sendMessage", {"chat_id": chat_id, **params})
        finally:
            # Counted when the answer is back: Telegram saw the request no later than that,
            # so windows measured from here hold on Telegram's side whatever the latency.
            self.guard.record(chat_id)

    def mention_entities(self, text: str, mentions: list[str]) -> tuple[str, list[dict[str, Any]]]:
        """Append a text mention per user id (labelled with the last name seen)."""
        entities: list[dict[str, Any]] = []
        for user_id in mentions:
            if not user_id.lstrip("-").isdigit():
                continue
            label = self._names.get(user_id) or user_id
            text = f"{text} " if text else text
            entities.append({"type": "text_mention", "offset": utf16_len(text),
                             "length": utf16_len(label), "user": {"id": int(user_id)}})
            text += label
        return text, entities

    async def invite_link_for(self, group: str, member: str) -> str:
        """A personal invite link: joins through it are attributed to `member` as inviter."""
        result = await self.call("createChatInviteLink", {
            "chat_id": self.chat_for(group), "name": f"{INVITE_LINK_PREFIX}{member}"[:32]})
        if not isinstance(result, dict) or not isinstance(result.get("invite_link"), str):
            raise BotApiError(0, "createChatInviteLink answered without a link")
        return str(result["invite_link"])

    def unix_now(self) -> float:
        return self._clock_s() if self._clock_s is not None else time.time()

    async def close(self) -> None:
        await self.api.close()


def _from_error(exc: BotApiError) -> DeliveryResult:
    if exc.code == 429:
        return DeliveryResult("retry", reason=str(exc), retry_after=exc.retry_after)
    if exc.transient:
        return DeliveryResult("retry", reason=str(exc))
    return DeliveryResult("failed", reason=str(exc))


def _data(action: Action) -> Mapping[str, Any]:
    return action.data


async def _send_message(p: TelegramPlatform, action: Action) -> DeliveryResult:
    data = _data(action)
    text, entities = p.mention_entities(str(data["text"]), list(data.get("mentions") or []))
    params: dict[str, Any] = {"text": text}
    if entities:
        params["entities"] = entities
    if data.get("reply_to"):
        params["reply_parameters"] = {"message_id": int(data["reply_to"]),
                                      "allow_sending_without_reply": True}
    await p.send(p.chat_for(_group(action)), params)
    return DeliveryResult("done")


async def _send_private(p: TelegramPlatform, action: Action) -> DeliveryResult:
    await p.send(_member(action), {"text": str(_data(action)["text"])})
    return DeliveryResult("done")


async def _invite_link(p: TelegramPlatform, action: Action) -> DeliveryResult:
    """A link named after the member (its joins name them as inviter), sent to them privately."""
    link = await p.invite_link_for(_group(action), _member(action))
    text = str(_data(action).get("text") or "{link}")
    await p.send(_member(action), {"text": text.replace("{link}", link)})
    return DeliveryResult("done")


async def _delete(p: TelegramPlatform, action: Action) -> DeliveryResult:
    await p.call("deleteMessage", {"chat_id": p.chat_for(_group(action)),
                                   "message_id": int(_data(action)["message_id"])})
    return DeliveryResult("done")


async def _mute(p: TelegramPlatform, action: Action) -> DeliveryResult:
    seconds = int(_data(action).get("seconds", 0))
    params: dict[str, Any] = {"chat_id": p.chat_for(_group(action)),
                              "user_id": int(_member(action)),
                              "permissions": dict.fromkeys(SEND_PERMISSIONS, seconds <= 0)}
    if seconds > 0:
        params["until_date"] = int(p.unix_now()) + max(seconds, MIN_RESTRICT_S)
    await p.call("restrictChatMember", params)
    return DeliveryResult("done")


async def _kick(p: TelegramPlatform, action: Action) -> DeliveryResult:
    """Kick = ban then unban (the user may come back); block = ban only."""
    target = {"chat_id": p.chat_for(_group(action)), "user_id": int(_member(action))}
    await p.call("banChatMember", target)
    if not _data(action).get("block"):
        await p.call("unbanChatMember", {**target, "only_if_banned": True})
    return DeliveryResult("done")


async def _mute_all(p: TelegramPlatform, action: Action) -> DeliveryResult:
    on = bool(_data(action).get("on", True))
    await p.call("setChatPermissions", {"chat_id": p.chat_for(_group(action)),
                                        "permissions": dict.fromkeys(SEND_PERMISSIONS, not on)})
    return DeliveryResult("done")


async def _announce(p: TelegramPlatform, action: Action) -> DeliveryResult:
    """Telegram has no group notice: the text is sent and pinned."""
    chat = p.chat_for(_group(action))
    sent = await p.send(chat, {"text": str(_data(action)["text"])})
    message_id = sent.get("message_id") if isinstance(sent, dict) else None
    if isinstance(message_id, int):
        await p.call("pinChatMessage", {"chat_id": chat, "message_id": message_id})
    return DeliveryResult("done")


async def _join_answer(p: TelegramPlatform, action: Action) -> DeliveryResult:
    request_id = str(_data(action)["request_id"])
    chat, _, user = request_id.rpartition(":")
    method = "approveChatJoinRequest" if action.type == A.APPROVE_JOIN \
        else "declineChatJoinRequest"
    await p.call(method, {"chat_id": p.chat_for(chat or _group(action)),
                          "user_id": int(user or _member(action))})
    return DeliveryResult("done")


def _group(action: Action) -> str:
    if not action.group:
        raise ValueError("the action names no group")
    return action.group


def _member(action: Action) -> str:
    if not action.member:
        raise ValueError("the action names no member")
    return action.member


HANDLERS: dict[str, Call] = {
    A.SEND_MESSAGE: _send_message, A.SEND_PRIVATE_MESSAGE: _send_private,
    A.DELETE_MESSAGE: _delete, A.MUTE_MEMBER: _mute, A.KICK_MEMBER: _kick,
    A.MUTE_ALL: _mute_all, A.SET_ANNOUNCEMENT: _announce,
    A.APPROVE_JOIN: _join_answer, A.REJECT_JOIN: _join_answer,
    A.SEND_INVITE_LINK: _invite_link,
}
