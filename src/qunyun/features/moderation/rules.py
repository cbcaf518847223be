"""The rules engine: one pure function, `evaluate`, that says whether a message breaks a rule.

The live handler and the dry run on history call the same function with the same inputs: the
group's compiled rules and the facts of one message (its text normalized once, its author's role,
probation, and the flood counts the caller keeps — in a table live, in memory on history).
The first rule that matches wins, in this order: mention-all, word lists, contact solicitation,
regexes, links, newcomer probation, flooding, the classifier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from qunyun.core.features import DerivedFromSettings
from qunyun.core.i18n import N_, gettext
from qunyun.features.moderation.classifier import SpamClassifier, message_features
from qunyun.features.moderation.ladder import Step
from qunyun.features.moderation.matcher import WordMatcher, matcher_for
from qunyun.features.moderation.normalize import Normalized
from qunyun.features.moderation.patterns import domain_matches, find_contacts, find_links
from qunyun.features.moderation.regex_guard import GuardedRegex, compile_guarded
from qunyun.features.moderation.settings import FloodRule, ModerationSettings
from qunyun.features.moderation.wordlist import WordEntry, builtin_lists, parse_wordlist

# Rule names (a case's `rule`).
MENTION_ALL = "mention_all"
BANNED_WORDS = "banned_words"
CONTACT = "contact"
REGEX = "regex"
LINKS = "links"
NEWCOMER = "newcomer"
FLOOD = "flood"
CROSS_GROUP = "cross_group"
CLASSIFIER = "classifier"
BLACKLIST = "blacklist"
RULES = (MENTION_ALL, BANNED_WORDS, CONTACT, REGEX, LINKS, NEWCOMER, FLOOD, CROSS_GROUP,
         CLASSIFIER, BLACKLIST)
RULE_LABELS = {
    MENTION_ALL: N_("mentioning everyone"), BANNED_WORDS: N_("banned words"),
    CONTACT: N_("contact details"), REGEX: N_("a custom rule"), LINKS: N_("links"),
    NEWCOMER: N_("newcomer limits"), FLOOD: N_("flooding"),
    CROSS_GROUP: N_("the same message in several groups"), CLASSIFIER: N_("the spam filter"),
    BLACKLIST: N_("the blacklist"), "kick_chain": N_("the kick chain"),
}
MEDIA_KINDS = frozenset({"image", "video", "file", "card", "link"})
ALL_MENTIONS = frozenset({"all", "@all", "everyone", "@everyone"})
ALL_WORDS = ("@全体成员", "@所有人", "@all", "@everyone")


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What the rules look at for one message."""

    normalized: Normalized
    kind: str = "text"
    urls: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    role: str = "member"
    newcomer: bool = False
    # The member's messages in this group within the flood window, this one included.
    recent_messages: int = 1
    # Groups the same text was posted in within the window, this one included.
    same_text_groups: int = 1


@dataclass(frozen=True, slots=True)
class Finding:
    """A broken rule: which, what matched (on the original text; start -1 when nothing in the
    text itself), and the classifier's score when it decided."""

    rule: str
    category: str = ""
    matched: str = ""
    start: int = -1
    end: int = -1
    text: str = ""
    score: float | None = None

    def detail(self) -> dict[str, Any]:
        body: dict[str, Any] = {"matched": self.matched}
        if self.start >= 0:
            body["spans"] = [{"start": self.start, "end": self.end, "text": self.text}]
        if self.score is not None:
            body["score"] = round(self.score, 4)
        return body


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A group's settings compiled for evaluation (built once per settings object)."""

    settings: ModerationSettings
    matcher: WordMatcher
    regexes: tuple[tuple[str, GuardedRegex], ...]
    ladder: tuple[Step, ...]
    exempt: frozenset[str]
    sources: dict[str, int] = field(default_factory=dict)  # words per list, for the editor

    @property
    def decay(self) -> timedelta | None:
        hours = self.settings.warning_decay_hours
        return timedelta(hours=hours) if hours else None

    def counts_since(self, now: datetime) -> datetime | None:
        """Offences at or after this time count for the ladder (None: all of them)."""
        decay = self.decay
        return now - decay if decay else None


@lru_cache(maxsize=64)
def _entries(words: tuple[str, ...], category: str, source: str) -> tuple[WordEntry, ...]:
    return tuple(parse_wordlist("\n".join(words), category=category, source=source))


def word_entries(settings: ModerationSettings) -> tuple[WordEntry, ...]:
    """Every word the matcher looks for: built-in lists that are on, named lists, own words."""
    entries: list[WordEntry] = []
    builtin = builtin_lists()
    for category in settings.builtin_lists:
        entries.extend(builtin.get(category, ()))
    for name, wordlist in sorted(settings.word_lists.items()):
        entries.extend(_entries(tuple(wordlist.words), wordlist.category, name))
    entries.extend(_entries(tuple(settings.banned_words), "custom", "community"))
    return tuple(entries)


@DerivedFromSettings
def compile_rules(settings: ModerationSettings) -> RuleSet:
    """The compiled rules of `settings`, kept per settings object."""
    entries = word_entries(settings)
    sources: dict[str, int] = {}
    for entry in entries:
        sources[entry.source] = sources.get(entry.source, 0) + 1
    return RuleSet(
        settings=settings, matcher=matcher_for(entries),
        regexes=tuple((r.name, compile_guarded(r.pattern, path=f"regexes.{i}.pattern"))
                      for i, r in enumerate(settings.regexes)),
        ladder=tuple(settings.steps()), exempt=frozenset(settings.exempt_roles),
        sources=sources)


# Rows of remembered messages are kept at most this long (the longest flood window).
MAX_FLOOD_WINDOW = timedelta(days=1)


def flood_counts(recent: Iterable[tuple[datetime, int, str]], *, group_id: int, at: datetime,
                 fingerprint: str, flood: FloodRule) -> tuple[int, int]:
    """From a member's remembered messages (time, group, text digest), this one included: how
    many in this group within `flood.seconds`, and in how many groups the same text within
    `flood.same_text_minutes` (at least 1)."""
    window = at - timedelta(seconds=flood.seconds)
    same_since = at - timedelta(minutes=flood.same_text_minutes)
    count, groups = 0, set()
    for when, group, mark in recent:
        if when > at:
            continue
        if group == group_id and when > window:
            count += 1
        if fingerprint and mark == fingerprint and when > same_since:
            groups.add(group)
    return count, max(len(groups), 1)


def fingerprint(normalized: Normalized, min_chars: int) -> str:
    """What makes two texts "the same text" across groups ("" for short texts)."""
    if len(normalized.text) < min_chars:
        return ""
    return hashlib.sha1(normalized.text.encode()).hexdigest()


def evaluate(rules: RuleSet, message: MessageFacts, *,
             classifier: SpamClassifier | None = None) -> Finding | None:
    """The first rule `message` breaks, or None. Exempt roles break none."""
    if message.role in rules.exempt:
        return None
    s = rules.settings
    n = message.normalized
    for check in (_mention_all, _words, _contact, _regexes, _links, _newcomer, _flood):
        found = check(rules, message, n)
        if found is not None:
            return found
    if s.classifier.enabled and classifier is not None and classifier.trained:
        features = message_features(n.original, newcomer=message.newcomer, urls=message.urls)
        score = classifier.score(features)
        if score >= s.classifier.threshold:
            return Finding(CLASSIFIER, "spam", score=score)
    return None


def _mention_all(rules: RuleSet, m: MessageFacts, n: Normalized) -> Finding | None:
    rule = rules.settings.mention_all
    if not rule.enabled:
        return None
    if ALL_MENTIONS & {x.lower() for x in m.mentions}:
        return Finding(MENTION_ALL, "all", "@all")
    lowered = n.original.lower()
    for word in ALL_WORDS:
        start = lowered.find(word)
        if start >= 0:
            end = start + len(word)
            return Finding(MENTION_ALL, "all", word, start, end, n.original[start:end])
    if rule.max_mentions and len(set(m.mentions)) > rule.max_mentions:
        return Finding(MENTION_ALL, "mass", str(len(set(m.mentions))))
    return None


def _words(rules: RuleSet, m: MessageFacts, n: Normalized) -> Finding | None:
    hit = rules.matcher.first(n)
    if hit is None:
        return None
    return Finding(BANNED_WORDS, hit.category, hit.word, hit.start, hit.end, hit.text)


def _contact(rules: RuleSet, m: MessageFacts, n: Normalized) -> Finding | None:
    rule = rules.settings.contact
    if not rule.enabled:
        return None
    kinds = set(rule.kinds)
    for hit in find_contacts(n):
        if hit.category in kinds:
            return Finding(CONTACT, hit.category, hit.word, hit.start, hit.end, hit.text)
    return None


def _regexes(rules: RuleSet, m: MessageFacts, n: Normalized) -> Finding | None:
    for name, pattern in rules.regexes:
        span = pattern.search(n.original)
        if span is not None:
            start, end = span
            return Finding(REGEX, name, pattern.pattern, start, end, n.original[start:end])
    return None


def _link_finding(rule: str, category: str, link: Any, original: str) -> Finding:
    text = original[link.start:link.end] if link.start >= 0 else link.url
    return Finding(rule, category, link.domain, link.start, link.end, text)


def _links(rules: RuleSet, m: MessageFacts, n: Normalized) -> Finding | None:
    rule = rules.settings.links
    if not rule.enabled:
        return None
    for link in find_links(n, m.urls):
        if domain_matches(link.domain, rule.allow):
            continue
        if rule.block == "all" or domain_matches(link.domain, rule.deny):
            return _link_finding(LINKS, "deny" if rule.block == "listed" else "link", link,
                                 n.original)
    return None


def _newcomer(rules: RuleSet, m: MessageFacts, n: Normalized) -> Finding | None:
    rule = rules.settings.newcomer
    if not (rule.enabled and m.newcomer):
        return None
    if rule.links:
        allow = rules.settings.links.allow
        for link in find_links(n, m.urls):
            if not domain_matches(link.domain, allow):
                return _link_finding(NEWCOMER, "link", link, n.original)
    if rule.media and m.kind in MEDIA_KINDS:
        return Finding(NEWCOMER, "media", m.kind)
    return None


def _flood(rules: RuleSet, m: MessageFacts, n: Normalized) -> Finding | None:
    rule = rules.settings.flood
    if not rule.enabled:
        return None
    if rule.same_text_groups and m.same_text_groups >= rule.same_text_groups:
        return Finding(CROSS_GROUP, "same_text", str(m.same_text_groups))
    if m.recent_messages > rule.messages:
        return Finding(FLOOD, "rate", str(m.recent_messages))
    return None


def rule_label(rule: str, locale: str) -> str:
    label = RULE_LABELS.get(rule)
    return gettext(label, locale) if label else rule


def on_probation(*, messages_before: int, joined_at: datetime | None, now: datetime,
                 settings: ModerationSettings, known_before: bool = False) -> bool:
    """A newcomer: fewer than `messages` messages, or joined less than `hours` ago. A member
    who was in the group before qunyun saw it (`known_before`) is none."""
    rule = settings.newcomer
    if not rule.enabled or known_before:
        return False
    if rule.messages and messages_before < rule.messages:
        return True
    return bool(rule.hours and joined_at is not None
                and now - joined_at < timedelta(hours=rule.hours))


def message_facts(normalized: Normalized, data: Any, *, role: str, newcomer: bool,
                  recent_messages: int = 1, same_text_groups: int = 1) -> MessageFacts:
    """Facts of a `message.posted` event's data."""
    return MessageFacts(
        normalized=normalized, kind=str(data.get("kind") or "text"),
        urls=_strings(data.get("urls")), mentions=_strings(data.get("mentions")), role=role,
        newcomer=newcomer, recent_messages=recent_messages, same_text_groups=same_text_groups)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    return tuple(str(v) for v in value)
