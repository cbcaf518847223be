"""A test-only feature that answers in playground groups, so a round trip can be seen.

- a message containing "spam": deleted, and its author muted for 10 minutes;
- "kick me": its author is removed; "mute all" / "unmute all": the group mute;
- anything else: the bot replies "收到：<text>".
"""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.actions import ActionRequest, send_message
from qunyun.core.features import Feature, FeatureContext, FeatureSettings

MUTE_SECONDS = 600


class BotSettings(FeatureSettings):
    enabled: bool = True


async def _answer(ctx: FeatureContext) -> None:
    event = ctx.event
    assert event is not None
    text = str(event.data.get("text", ""))
    if "spam" in text:
        ctx.emit(ActionRequest("message.delete", {"message_id": event.data["message_id"]}))
        ctx.emit(ActionRequest("member.mute", {"seconds": MUTE_SECONDS}, member=event.member))
        ctx.stop()
    elif text == "kick me":
        ctx.emit(ActionRequest("member.kick", {}, member=event.member))
    elif text in ("mute all", "unmute all"):
        ctx.emit(ActionRequest("group.mute_all", {"on": text == "mute all"}))
    else:
        ctx.emit(send_message(f"收到：{text}", reply_to=str(event.data["message_id"])))


def playground_bot() -> Feature:
    return Feature(name="playbot", title="Playground bot", description="Answers every message.",
                   order=100, events=frozenset({E.MESSAGE_POSTED}), settings_model=BotSettings,
                   handle=_answer, on_by_default=True)
