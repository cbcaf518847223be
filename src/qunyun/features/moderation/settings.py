"""Settings of `moderation` (`[features.moderation]` in a playbook).

Fixed by the playbook contract: `banned_words` (a list of words) and `ladder` (the steps of
consequences, `["warn", "warn", "mute:600", "mute:86400", "kick"]`). The rest is ours, each a
table of one rule (layers replace a whole table: a group that sets `links` sets all of it):

- `builtin_lists`: the categories of the built-in word lists that are on (ads, contact, abuse);
  `word_lists`: named lists `{category, words}` (set at the organization layer they are shared by
  every community); `banned_words`: the community's (or group's) own words, category `custom`.
- `contact`: contact solicitation (加微信, V信, 私聊, phone and QQ numbers), by kind.
- `links`: `block = "all"` (every link but the `allow`ed domains) or `"listed"` (only `deny`).
- `flood`: `messages` in `seconds` by one member; the same text in `same_text_groups` groups
  within `same_text_minutes` (texts of at least `min_chars` characters).
- `mention_all`: @全体成员 by a non-exempt member, or more than `max_mentions` members at once.
- `newcomer`: probation while a member has posted fewer than `messages` messages or joined less
  than `hours` ago (0 turns a criterion off): no links, no media.
- `regexes`: `[{name, pattern}]`, checked when loaded (errors give the position), guarded
  against catastrophic backtracking.
- `classifier`: the learning spam classifier, a hit from `threshold` (0.5–1).
- `exempt_roles`: roles the rules never touch. `warning_decay_hours`: offences older than this
  no longer count for the ladder (0: never). `notify`: tell the member which rule, politely.
- `blacklist`: remove members of the organization's blacklist when they post.
- `kick_chain`: on a kick or block, also kick (or flag for review) whom the offender invited in
  the last `days` days.
- Modes: `all_mute` (全体禁言: only `speakers` roles talk) and `night` (quiet hours from
  `start` to `end`, community time): the platform's mute-all when it has one, else messages of
  others are deleted.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import InitErrorDetails

from qunyun.community.roles import ROLES
from qunyun.core.errors import InvalidInput, settings_error
from qunyun.core.features import FeatureSettings
from qunyun.core.i18n import N_
from qunyun.features.moderation.ladder import DEFAULT_LADDER, Step, StepError, parse_step
from qunyun.features.moderation.regex_guard import compile_guarded
from qunyun.features.moderation.wordlist import builtin_lists, parse_wordlist

MAX_WORDS = 20_000
ContactKind = Literal["wechat", "phone", "qq", "solicit"]
CONTACT_KINDS: tuple[ContactKind, ...] = ("wechat", "phone", "qq", "solicit")
CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DEFAULT_SPEAKERS = ["owner", "admin", "expert", "assistant"]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_roles(value: list[str]) -> list[str]:
    for role in value:
        if role not in ROLES:
            raise settings_error(N_("unknown role {role}: use one of {choices}"), role=role,
                                 choices=", ".join(ROLES))
    return value


def check_words(words: list[str], source: str) -> list[str]:
    """Each word must normalize to something and be short; the error names the entry's index
    (`banned_words.3: …`)."""
    try:
        parse_wordlist("\n".join(w.replace("\n", " ") for w in words), category="custom",
                       source=source)
    except InvalidInput as exc:
        error = exc.errors[0] if exc.errors else None
        line = error.path.rpartition(":")[2] if error else ""
        index = int(line) - 1 if line.isdigit() else 0
        reason, params = (error.reason, dict(error.params)) if error else (exc.message,
                                                                           exc.params)
        raise ValidationError.from_exception_data("words", [InitErrorDetails(
            type=settings_error(reason, **params), loc=(index,),
            input=words[index] if 0 <= index < len(words) else "")]) from exc
    return words


class WordList(_Table):
    category: str = Field("custom", description=N_("The category hits are filed under."))
    words: list[str] = Field(default_factory=list, max_length=MAX_WORDS)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if not CATEGORY.match(value):
            raise settings_error(N_("a category is lower-case letters, digits or _: {value}"),
                                 value=value)
        return value

    @field_validator("words")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        return check_words(value, "words")


class ContactRule(_Table):
    enabled: bool = True
    kinds: list[ContactKind] = Field(default_factory=lambda: list(CONTACT_KINDS))


class LinkRule(_Table):
    enabled: bool = False
    block: Literal["all", "listed"] = "all"
    allow: list[str] = Field(default_factory=list, max_length=1000)
    deny: list[str] = Field(default_factory=list, max_length=1000)

    @field_validator("allow", "deny")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        cleaned = [d.strip().lower().removeprefix("www.") for d in value]
        for domain in cleaned:
            if not domain or " " in domain or "/" in domain or "." not in domain:
                raise settings_error(N_("not a domain name: {value}"), value=domain)
        return cleaned


class FloodRule(_Table):
    enabled: bool = True
    messages: int = Field(8, ge=2, le=100)
    seconds: int = Field(15, ge=1, le=3600)
    same_text_groups: int = Field(3, ge=0, le=100)  # 0: off
    same_text_minutes: int = Field(10, ge=1, le=1440)
    min_chars: int = Field(8, ge=1, le=500)


class MentionAllRule(_Table):
    enabled: bool = True
    max_mentions: int = Field(10, ge=0, le=1000)  # 0: no limit on how many members


class NewcomerRule(_Table):
    enabled: bool = True
    messages: int = Field(5, ge=0, le=1000)
    hours: int = Field(24, ge=0, le=24 * 90)
    links: bool = True  # no links on probation
    media: bool = True  # no images, videos, files, cards on probation


class RegexRule(_Table):
    name: str = Field(min_length=1, max_length=50)
    pattern: str = Field(min_length=1, max_length=500)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compile_guarded(value, path="pattern")
        except InvalidInput as exc:
            error = exc.errors[0] if exc.errors else None
            if error is None:
                raise settings_error(exc.message, **exc.params) from exc
            raise settings_error(error.reason, **dict(error.params)) from exc
        return value


class ClassifierRule(_Table):
    enabled: bool = False
    threshold: float = Field(0.9, ge=0.5, le=1)
    learn: bool = True  # staff decisions train it


class KickChainRule(_Table):
    enabled: bool = False
    days: int = Field(7, ge=1, le=365)
    mode: Literal["kick", "review"] = "review"


class AllMuteMode(_Table):
    enabled: bool = False
    speakers: list[str] = Field(default_factory=lambda: list(DEFAULT_SPEAKERS))
    use_platform: bool = True  # the platform's mute-all, when it has one

    @field_validator("speakers")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return _check_roles(value)


class NightMode(AllMuteMode):
    start: str = "23:00"
    end: str = "07:00"

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not CLOCK_TIME.match(value):
            raise settings_error(N_("a time of day is HH:MM, e.g. 23:00: {value}"), value=value)
        return value


def _builtin_categories() -> list[str]:
    return sorted(builtin_lists())


class ModerationSettings(FeatureSettings):
    enabled: bool = False
    banned_words: list[str] = Field(default_factory=list, max_length=MAX_WORDS, description=N_(
        "Words that are not allowed (matched after normalization: full-width, case, "
        "traditional characters, symbols between characters)."))
    ladder: list[str] = Field(default_factory=lambda: list(DEFAULT_LADDER), min_length=1,
                              max_length=20, description=N_(
        "Consequences by offence: delete, warn, mute:<seconds>, kick or block."))
    builtin_lists: list[str] = Field(default_factory=_builtin_categories, description=N_(
        "Categories of the built-in word lists that are on."))
    word_lists: dict[str, WordList] = Field(default_factory=dict, description=N_(
        "Named word lists {category, words}; set for the organization, shared by all."))
    contact: ContactRule = Field(default_factory=ContactRule, description=N_(
        "Contact solicitation: WeChat, phone and QQ numbers, “add me” phrases."))
    links: LinkRule = Field(default_factory=LinkRule, description=N_(
        "Links: block all but the allowed domains, or only the denied ones."))
    flood: FloodRule = Field(default_factory=FloodRule, description=N_(
        "Flooding: many messages in a short time, the same text in several groups."))
    mention_all: MentionAllRule = Field(default_factory=MentionAllRule, description=N_(
        "@all by members, or mentioning too many members at once."))
    newcomer: NewcomerRule = Field(default_factory=NewcomerRule, description=N_(
        "Probation for newcomers: no links or media in their first messages or hours."))
    regexes: list[RegexRule] = Field(default_factory=list, max_length=100, description=N_(
        "Regular expressions [{name, pattern}], checked when loaded."))
    classifier: ClassifierRule = Field(default_factory=ClassifierRule, description=N_(
        "The learning spam classifier and its threshold."))
    exempt_roles: list[str] = Field(default_factory=lambda: ["owner", "admin"], description=N_(
        "Roles the rules never touch."))
    warning_decay_hours: int = Field(720, ge=0, le=24 * 3650, description=N_(
        "Hours after which an offence no longer counts for the ladder (0: never)."))
    notify: bool = Field(True, description=N_("Tell the member which rule, politely."))
    blacklist: bool = Field(True, description=N_(
        "Remove members on the organization's blacklist when they post."))
    kick_chain: KickChainRule = Field(default_factory=KickChainRule, description=N_(
        "On a kick, also kick or flag whom the offender invited recently."))
    all_mute: AllMuteMode = Field(default_factory=AllMuteMode, description=N_(
        "All-mute mode: only the speaker roles talk (teachers speak, members listen)."))
    night: NightMode = Field(default_factory=NightMode, description=N_(
        "Quiet hours (community time): only the speaker roles talk."))

    @field_validator("banned_words")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        return check_words(value, "banned_words")

    @field_validator("ladder")
    @classmethod
    def _ladder(cls, value: list[str]) -> list[str]:
        for step in value:
            try:
                parse_step(step)
            except StepError as exc:
                raise settings_error(exc.reason, **exc.params) from exc
        return value

    @field_validator("builtin_lists")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        known = _builtin_categories()
        for category in value:
            if category not in known:
                raise settings_error(N_("no built-in list {category}: use one of {choices}"),
                                     category=category, choices=", ".join(known))
        return value

    @field_validator("exempt_roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return _check_roles(value)

    def steps(self) -> list[Step]:
        return [parse_step(s) for s in self.ladder]
