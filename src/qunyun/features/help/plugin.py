"""`help` (帮助): a chat command that lists what this group has on and how to use it, built from
each enabled feature's `usage`."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from qunyun.core import events as E
from qunyun.core.errors import settings_error
from qunyun.core.features import Feature, FeatureSettings
from qunyun.core.i18n import N_, gettext
from qunyun.features.help.handlers import handle


class HelpSettings(FeatureSettings):
    keywords: list[str] = Field(
        default_factory=lambda: ["帮助", "菜单", "help"], min_length=1,
        description="Messages that ask for the list (the bare word, with or without / or #).")

    @field_validator("keywords")
    @classmethod
    def _one_word_each(cls, value: list[str]) -> list[str]:
        if any(not k.strip() or len(k.split()) > 1 for k in value):
            raise settings_error(N_("each keyword is one word, without spaces"))
        return [k.strip() for k in value]


def usage(settings: Any, locale: str) -> list[str]:
    return [gettext("{keywords}: what this group has on and how to use it", locale,
                    keywords=" / ".join(settings.keywords))]


FEATURE = Feature(
    name="help",
    title=N_("Help"),
    description=N_("A command that lists what this group has on and how to use it."),
    order=950,
    events=frozenset({E.MESSAGE_POSTED}),
    settings_model=HelpSettings,
    handle=handle,
    usage=usage,
    savepoint=False,  # reads only: nothing to roll back
)
