"""WeCom (企业微信) customer groups: callbacks in, mass-send tasks and staff tasks out."""

from qunyun.platforms.wecom.platform import Corp, WecomPlatform

__all__ = ["Corp", "WecomPlatform"]
