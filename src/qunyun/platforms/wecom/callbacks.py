"""Decrypted WeCom callbacks (XML) read safely, and translated into canonical events.

Only translation lives here. What the callback cannot say (names, owners, the members of a
`MemChangeList` that is missing or shorter than `MemChangeCnt`) comes from re-fetching the group
shortly after (see `roster.py`); the event ids are stable, so a repeated callback is a duplicate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from qunyun.core import events as E
from qunyun.platforms.wecom.crypto import MALFORMED, CryptoError

PLATFORM = "wecom"
CHINA = timezone(timedelta(hours=8))
MAX_XML_BYTES = 1_000_000

# The callback's JoinScene / QuitScene codes (not the groupchat/get join_scene table).
CALLBACK_JOIN_VIA = {"0": "invite", "3": "qr"}
CALLBACK_QUIT_REASON = {"0": "quit", "1": "kicked"}
ITEM_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True, slots=True)
class Callback:
    """The fields of one decrypted callback, as text; `members` is MemChangeList read."""

    fields: dict[str, str]
    members: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    @property
    def event(self) -> str:
        return self.get("Event")

    @property
    def change_type(self) -> str:
        return self.get("ChangeType")

    @property
    def chat_id(self) -> str:
        return self.get("ChatId")

    def at(self, received_at: datetime) -> datetime:
        """CreateTime, or when the callback was received if it has none."""
        created = self.get("CreateTime")
        if created.isdigit():
            return datetime.fromtimestamp(int(created), CHINA)
        return received_at.astimezone(CHINA)


def read_xml(text: str | bytes) -> Element:
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_XML_BYTES:
        raise CryptoError(MALFORMED, "the XML body is larger than 1 MB")
    try:
        root = fromstring(raw)
    except (ParseError, DefusedXmlException) as exc:
        raise CryptoError(MALFORMED, f"the body is not acceptable XML: {exc}") from exc
    if not isinstance(root, Element):
        raise CryptoError(MALFORMED, "the body is not an XML element")
    return root


def envelope_encrypt(body: str | bytes) -> str:
    """The `Encrypt` text of a POSTed callback envelope."""
    node = read_xml(body).find("Encrypt")
    if node is None or not (node.text or "").strip():
        raise CryptoError(MALFORMED, "the XML has no Encrypt element")
    return (node.text or "").strip()


def parse_callback(text: str | bytes) -> Callback:
    """Read a decrypted callback; MemChangeList as <Item> elements, one comma-separated string,
    or missing."""
    root = read_xml(text)
    fields: dict[str, str] = {}
    members: list[str] = []
    for child in root:
        if child.tag == "MemChangeList":
            members = _member_list(child)
        elif len(child) == 0:
            fields[child.tag] = (child.text or "").strip()
    return Callback(fields, tuple(dict.fromkeys(members)))


def _member_list(node: Element) -> list[str]:
    items = [(item.text or "").strip() for item in node if item.tag == "Item"]
    if not items and (node.text or "").strip():
        items = ITEM_SEPARATORS.split((node.text or "").strip())
    return [item for item in items if item]


def _version(cb: Callback) -> str:
    return f"v{cb.get('CurMemVer')}" if cb.get("CurMemVer") else f"t{cb.get('CreateTime', '0')}"


def _event(kind: str, event_id: str, chat: str, at: datetime, data: dict[str, Any],
           member: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"v": 1, "id": event_id, "type": kind, "platform": PLATFORM,
                            "group": chat, "at": at.isoformat(), "data": data}
    if member is not None:
        body["member"] = member
    return body


def joined_event_id(chat: str, user: str, suffix: str) -> str:
    return f"join:{chat}:{user}:{suffix}"


def translate(cb: Callback, received_at: datetime,
              codes: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Canonical events of one callback (possibly none). `codes`: channel codes (the State of
    `change_external_contact` adds) by external user id, used as the join's `code`."""
    if cb.event != "change_external_chat" or not cb.chat_id:
        return []
    chat, at = cb.chat_id, cb.at(received_at)
    if cb.change_type == "create":
        return [_event(E.GROUP_CREATED, f"created:{chat}", chat, at, {"name": ""})]
    if cb.change_type == "dismiss":
        return [_event(E.GROUP_DISMISSED, f"dismissed:{chat}", chat, at, {})]
    if cb.change_type != "update":
        return []
    detail = cb.get("UpdateDetail")
    if detail == "add_member":
        return [_joined(cb, chat, user, at, codes or {}) for user in cb.members]
    if detail == "del_member":
        reason = CALLBACK_QUIT_REASON.get(cb.get("QuitScene"), "quit")
        return [_event(E.MEMBER_LEFT, f"left:{chat}:{user}:{_version(cb)}", chat, at,
                       {"reason": reason}, member=user) for user in cb.members]
    return []  # change_owner / change_name / change_notice: the re-fetch brings the values


def _joined(cb: Callback, chat: str, user: str, at: datetime,
            codes: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "", "via": CALLBACK_JOIN_VIA.get(cb.get("JoinScene"),
                                                                     "other")}
    if codes.get(user):
        data["code"] = codes[user][:200]
    return _event(E.MEMBER_JOINED, joined_event_id(chat, user, _version(cb)), chat, at, data,
                  member=user)


def contact_state(cb: Callback) -> tuple[str, str] | None:
    """(external user id, State) of a `change_external_contact` add that carries a State."""
    if cb.event != "change_external_contact":
        return None
    if cb.change_type not in ("add_external_contact", "add_half_external_contact"):
        return None
    user, state = cb.get("ExternalUserID"), cb.get("State")
    return (user, state) if user and state else None


def why_no_events(cb: Callback) -> str:
    """Why a callback gives no event at once (for diagnostics)."""
    if cb.event == "change_external_contact":
        state = contact_state(cb)
        if state:
            return (f"change_external_contact {cb.change_type}: outside any group; State "
                    f"{state[1]!r} becomes the code of {state[0]}'s next group join")
        return f"change_external_contact {cb.change_type}: outside any group"
    if cb.event != "change_external_chat":
        return f"not a customer-group callback (MsgType {cb.get('MsgType')!r}, Event {cb.event!r})"
    if not cb.chat_id:
        return "change_external_chat without ChatId"
    detail = cb.get("UpdateDetail")
    if detail in ("add_member", "del_member"):
        return f"{detail} without MemChangeList: the re-fetch of the group finds the members"
    return (f"{cb.change_type} {detail}: the re-fetch of the group brings the new name, notice "
            f"and owner")


def needs_refetch(cb: Callback) -> bool:
    """Every group change is followed by a re-fetch of the group (except its dismissal)."""
    return (cb.event == "change_external_chat" and bool(cb.chat_id)
            and cb.change_type in ("create", "update"))
