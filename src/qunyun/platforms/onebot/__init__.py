"""OneBot 11 (QQ groups): translation of events and actions, the adapter, its links."""

from qunyun.core.actions import SEND_MESSAGE
from qunyun.core.i18n import N_
from qunyun.platforms.onebot.outbound import CAPABILITIES
from qunyun.platforms.onebot.platform import Bot, GroupHealth, OneBotPlatform

CAPABILITY_NOTES = {
    SEND_MESSAGE: N_("QQ's risk control may drop a send silently; failures show below"),
}

__all__ = ["CAPABILITIES", "CAPABILITY_NOTES", "Bot", "GroupHealth", "OneBotPlatform"]
