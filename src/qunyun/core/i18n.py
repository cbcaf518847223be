"""Translations of user-facing text. Chinese (zh_CN) first, English second.

Message ids are English; the catalogs live in `qunyun/locales/<locale>/LC_MESSAGES/messages.po`
and are read with Babel when first needed (no compile step).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from babel.messages.pofile import read_po

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")


def normalize_locale(value: str | None) -> str:
    """Map 'zh', 'zh-CN', 'en-US' and the like onto a supported locale."""
    if not value:
        return DEFAULT_LOCALE
    head = value.replace("-", "_").split(",")[0].strip().lower()
    return "en" if head.startswith("en") else DEFAULT_LOCALE


@cache
def _catalog(locale: str) -> dict[str, str]:
    path = resources.files("qunyun") / "locales" / locale / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def gettext(message: str, locale: str = DEFAULT_LOCALE, **params: object) -> str:
    """Translate `message` into `locale` and fill `{name}` placeholders from `params`."""
    text = _catalog(normalize_locale(locale)).get(message, message)
    return text.format(**params) if params else text


def N_(message: str) -> str:
    """Mark a message id for extraction where it is translated later (at render time)."""
    return message


def catalog_ids(locale: str) -> set[str]:
    return set(_catalog(locale))
