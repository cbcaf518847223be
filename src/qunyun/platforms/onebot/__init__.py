"""OneBot 11 (QQ groups): translation of events and actions, the adapter, its links."""

from qunyun.platforms.onebot.platform import Bot, GroupHealth, OneBotPlatform

__all__ = ["Bot", "GroupHealth", "OneBotPlatform"]
