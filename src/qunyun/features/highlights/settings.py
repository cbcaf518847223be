"""The settings of `highlights` (playbook table `[features.highlights]`)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from qunyun.community.roles import ROLES
from qunyun.core.commands import normalize
from qunyun.core.errors import settings_error
from qunyun.core.features import FeatureSettings
from qunyun.core.i18n import N_, gettext
from qunyun.features.highlights.weeks import DigestTime

WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))
ROLE_NAMES = {"owner": N_("Group owner"), "admin": N_("Group admin"), "expert": N_("Expert"),
              "assistant": N_("Assistant"), "editor": N_("Content editor"),
              "moderator": N_("Moderator"), "activist": N_("Activist"),
              "seed": N_("Seed member"), "staff": N_("Shopping guide"),
              "member": N_("Ordinary member")}


class HighlightsSettings(FeatureSettings):
    keywords: list[str] = Field(
        default_factory=lambda: ["设精华", "精华", "highlight"], min_length=1,
        description=N_("Reply to a message with one of these words to keep it as a highlight."))
    unmark_keywords: list[str] = Field(
        default_factory=lambda: ["取消精华", "unhighlight"], min_length=1,
        description=N_("Reply to a highlight with one of these words to remove it."))
    allowed_roles: list[str] = Field(
        default_factory=lambda: ["owner", "admin"], min_length=1,
        description=N_("Group roles that may mark highlights in the chat."))
    digest_in_group: bool = Field(
        default=True, description=N_("Post the week's highlights in the group once a week."))
    digest_weekday: int = Field(
        default=6, ge=0, le=6,
        description=N_("The weekday of the digest: 0 is Monday, 6 is Sunday."))
    digest_hour: int = Field(default=20, ge=0, le=23,
                             description=N_("The local hour of the digest (0–23)."))
    digest_max_items: int = Field(default=20, ge=1, le=50,
                                  description=N_("At most this many highlights in a post."))
    text_limit: int = Field(
        default=120, ge=20, le=2000,
        description=N_("Characters of each message shown in the post; longer ones are cut."))

    @field_validator("keywords", "unmark_keywords")
    @classmethod
    def _single_words(cls, words: list[str]) -> list[str]:
        for word in words:
            if not word.strip() or len(word.split()) != 1:
                raise settings_error(N_("a keyword is one word without spaces: {word}"),
                                     word=word)
        return words

    @field_validator("allowed_roles")
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        for role in roles:
            if role not in ROLES:
                raise settings_error(N_("unknown role {role}; the roles are: {roles}"),
                                     role=role, roles=", ".join(ROLES))
        return roles

    @model_validator(mode="after")
    def _distinct_commands(self) -> HighlightsSettings:
        both = {normalize(w) for w in self.keywords} & {normalize(w) for w in
                                                        self.unmark_keywords}
        if both:
            raise settings_error(N_("a word cannot both mark and unmark: {words}"),
                                 words=", ".join(sorted(both)))
        return self


def digest_time(settings: HighlightsSettings, timezone: str) -> DigestTime:
    return DigestTime(settings.digest_weekday, settings.digest_hour, timezone)


def roles_text(settings: HighlightsSettings, locale: str) -> str:
    """Who may mark highlights, for people to read: 群主 / 管理员."""
    return " / ".join(gettext(ROLE_NAMES[r], locale) for r in settings.allowed_roles)
