"""帮助 / 菜单 / help → what this group has on. Runs on every message: returns early and cheaply
unless the message is one of the keywords."""

from __future__ import annotations

from functools import lru_cache

from qunyun.core.actions import send_message
from qunyun.core.commands import normalize, parse_command
from qunyun.core.features import FeatureContext
from qunyun.features.help.menu import compose_menu

LONGEST_COMMAND = 32  # longer messages are conversation, not a help request


@lru_cache(maxsize=64)
def keyword_set(keywords: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize(k) for k in keywords)


async def handle(ctx: FeatureContext) -> None:
    event = ctx.event
    if event is None or event.imported or ctx.group is None or ctx.registry is None:
        return
    text = event.data.get("text")
    if not isinstance(text, str) or not text or len(text) > LONGEST_COMMAND:
        return
    command = parse_command(text)
    # Only the bare keyword: "菜单 在哪看" is conversation.
    if command is None or command.argument or \
            command.word not in keyword_set(tuple(ctx.settings.keywords)):
        return
    reply = compose_menu(ctx.registry, ctx.group_settings, ctx.locale, skip="help")
    message_id = event.data.get("message_id")
    ctx.emit(send_message(reply, reply_to=str(message_id) if message_id else None))
