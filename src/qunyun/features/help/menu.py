"""The help reply: what this group has on, one short section per feature with its usage."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from qunyun.core.features import Feature, FeatureRegistry, FeatureSettings
from qunyun.core.i18n import gettext

log = logging.getLogger(__name__)

MAX_LINES_PER_FEATURE = 4
MAX_CHARS = 1200  # one chat message, readable on a phone


def compose_menu(registry: FeatureRegistry, group_settings: Mapping[str, FeatureSettings],
                 locale: str, *, skip: str = "") -> str:
    """The reply, features in their registry order; sections that would make it too long are
    left out and counted."""
    sections = []
    for feature in registry:
        if feature.name != skip:
            section = _section(feature, group_settings.get(feature.name), locale)
            if section:
                sections.append(section)
    if not sections:
        return gettext("This group has no commands turned on yet.", locale)
    text = gettext("What this group has on:", locale)
    for shown, part in enumerate(sections):
        if len(text) + len(part) + 1 > MAX_CHARS:
            return text + "\n" + gettext("…and {count} more", locale, count=len(sections) - shown)
        text += "\n" + part
    return text


def _section(feature: Feature, settings: FeatureSettings | None, locale: str) -> str:
    if feature.usage is None or settings is None or not settings.enabled:
        return ""
    try:
        lines = feature.usage(settings, locale)[:MAX_LINES_PER_FEATURE]
    except Exception:  # another feature's bug must not silence the whole help
        log.exception("usage of feature %s failed", feature.name)
        return ""
    if not lines:
        return ""
    title = gettext("[{title}]", locale, title=gettext(feature.title, locale))
    return "\n".join([title, *lines])
