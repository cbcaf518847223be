"""WeCom (企业微信) customer groups: callbacks in, mass-send tasks and staff tasks out."""

from qunyun.platforms.wecom.platform import (
    CAPABILITIES,
    CAPABILITY_NOTES,
    Corp,
    WecomPlatform,
)

__all__ = ["CAPABILITIES", "CAPABILITY_NOTES", "Corp", "WecomPlatform"]
