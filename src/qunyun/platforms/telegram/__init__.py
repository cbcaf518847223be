"""Telegram through the Bot API: updates → canonical events, actions → Bot API calls.

`translate` turns updates into events, `adapter` performs actions within Telegram's limits
(`guard`), `client` speaks HTTP, `diagnose` parses raw payloads for operators, and
`fake_server` is a Bot API simulator that enforces the limits (tests and benchmarks).
"""

from qunyun.platforms.telegram.adapter import CAPABILITIES, TELEGRAM_RATE_LIMITS, TelegramPlatform
from qunyun.platforms.telegram.client import BotApi, BotApiError
from qunyun.platforms.telegram.translate import Malformed, Translation, translate_update

__all__ = ["CAPABILITIES", "TELEGRAM_RATE_LIMITS", "BotApi", "BotApiError", "Malformed",
           "TelegramPlatform", "Translation", "translate_update"]
