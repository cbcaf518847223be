"""The award rules as pure functions of facts, settings and a member's anti-farming memory.

The live feature and `qunyun points recompute` both run these functions (the live one over a
batch with memories kept in a table, the recompute over the whole event history with
`replay_awards`), so the two cannot disagree.

The rules, as documented for staff:
- **message** (`message_points`): the text is normalised (NFKC, lower case, only letters and
  digits: emoji, punctuation, symbols and blanks dropped). It earns nothing when shorter than
  `message_min_length`; when it is a near-duplicate of one of the member's last
  `duplicate_window` messages (Jaccard similarity of the character 3-gram sets
  ≥ `duplicate_similarity`; texts shorter than 3 are compared whole); within
  `message_cooldown_seconds` of the member's last paid message; or once the member earned
  `message_daily_cap` message points that local day. Every message long enough counts as
  "recent", paid or not, so repeating a text after the cooldown still earns nothing.
- **reaction** (`reaction_points`): the author of the reacted message earns; a member's own
  reaction never; only the first reaction of a reactor on a message counts; at most
  `reaction_daily_cap` reaction points per author and local day.
- **invite** (`invite_points`): the inviter of a new membership earns, once the invitee has
  stayed `invite_hold_hours` (0: at once); a person brings points to their first inviter in
  the community only (key per invitee), and never for inviting themselves.
The memory (cooldown, recent texts, daily counts) is per person and community: points belong
to the person across all the community's groups. Imported history earns nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from qunyun.core.clock import local_day
from qunyun.core.commands import fold_width
from qunyun.features.points.settings import PointsSettings

MESSAGE, REACTION, INVITE = "message", "reaction", "invite"
RULE_REASONS = (MESSAGE, REACTION, INVITE)
MAX_TEXT = 200  # characters of a normalised text kept and compared
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Award:
    org_id: int
    community_id: int
    person_id: int
    group_id: int
    amount: int
    reason: str
    key: str
    at: datetime
    source_event: str


@dataclass(slots=True)
class MemberMemory:
    """What the rules remember of one person in one community."""

    last_award_at: datetime | None = None  # of a message
    recent: list[str] = field(default_factory=list)  # normalised texts, newest last
    day: date | None = None  # the local day the counts below are for
    message_points: int = 0
    reaction_points: int = 0

    def count_day(self, day: date) -> None:
        if self.day != day:
            self.day, self.message_points, self.reaction_points = day, 0, 0


@dataclass(frozen=True, slots=True)
class Where:
    """Where and when a fact happened: the source event `platform:id` and its group."""

    org_id: int
    community_id: int
    group_id: int
    at: datetime
    timezone: str
    source: str


@dataclass(frozen=True, slots=True)
class MessageFact:
    where: Where
    person_id: int
    text: str  # normalised (see `message_fact`)


@dataclass(frozen=True, slots=True)
class ReactionFact:
    where: Where
    author_id: int
    reactor_id: int
    message_id: str


@dataclass(frozen=True, slots=True)
class InviteFact:
    where: Where
    inviter_id: int
    invitee_id: int


@dataclass(frozen=True, slots=True)
class LeaveFact:
    """A membership ended (`person_id` None: the group was dismissed): a held invite lapses."""

    group_id: int
    person_id: int | None
    at: datetime


Fact = MessageFact | ReactionFact | InviteFact | LeaveFact


def normalize_text(text: str) -> str:
    cleaned = _NOT_LETTER_OR_DIGIT.sub("", fold_width(text).lower())
    return cleaned[:MAX_TEXT]


def message_fact(where: Where, person_id: int, text: str,
                 settings: PointsSettings) -> MessageFact | None:
    """The fact the message rule looks at; None when the message cannot earn at all (no points
    for messages, or too short), so callers skip it without touching any memory."""
    if settings.message_points <= 0:
        return None
    normalized = normalize_text(text)
    if len(normalized) < settings.message_min_length or not normalized:
        return None
    return MessageFact(where, person_id, normalized)


@lru_cache(maxsize=8192)
def _shingles(text: str) -> frozenset[str]:
    if len(text) < 3:
        return frozenset((text,))
    return frozenset(text[i:i + 3] for i in range(len(text) - 2))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character 3-gram sets of two normalised texts."""
    if a == b:
        return 1.0
    first, second = _shingles(a), _shingles(b)
    common = len(first & second)
    return common / (len(first) + len(second) - common)


def is_near_duplicate(text: str, recent: Iterable[str], threshold: float) -> bool:
    return any(similarity(text, earlier) >= threshold for earlier in recent)


def _capped(amount: int, earned: int, cap: int) -> int:
    return amount if cap == 0 else max(0, min(amount, cap - earned))


def message_award(fact: MessageFact, settings: PointsSettings,
                  memory: MemberMemory) -> Award | None:
    duplicate = is_near_duplicate(fact.text, memory.recent, settings.duplicate_similarity)
    if settings.duplicate_window:
        memory.recent = [*memory.recent, fact.text][-settings.duplicate_window:]
    if duplicate and settings.duplicate_window:
        return None
    w = fact.where
    cooldown = timedelta(seconds=settings.message_cooldown_seconds)
    if memory.last_award_at is not None and w.at - memory.last_award_at < cooldown:
        return None
    memory.count_day(local_day(w.at, w.timezone))
    amount = _capped(settings.message_points, memory.message_points, settings.message_daily_cap)
    if amount <= 0:
        return None
    memory.message_points += amount
    memory.last_award_at = w.at
    return Award(w.org_id, w.community_id, fact.person_id, w.group_id, amount, MESSAGE,
                 f"points:{MESSAGE}:{w.source}", w.at, w.source)


def reaction_award(fact: ReactionFact, first: bool, settings: PointsSettings,
                   memory: MemberMemory) -> Award | None:
    """`first`: this is the reactor's first reaction on the message; `memory` is the author's."""
    if settings.reaction_points <= 0 or not first or fact.author_id == fact.reactor_id:
        return None
    w = fact.where
    memory.count_day(local_day(w.at, w.timezone))
    amount = _capped(settings.reaction_points, memory.reaction_points,
                     settings.reaction_daily_cap)
    if amount <= 0:
        return None
    memory.reaction_points += amount
    return Award(w.org_id, w.community_id, fact.author_id, w.group_id, amount, REACTION,
                 f"points:{REACTION}:{w.source}", w.at, w.source)


def invite_due(at: datetime, settings: PointsSettings) -> datetime:
    return at + timedelta(hours=settings.invite_hold_hours)


RELEASE_EVERY = timedelta(hours=6)


def release_time(due: datetime) -> datetime:
    """When a held invite is looked at: the first 6-hour mark (00, 06, 12, 18 UTC) at or after
    its due time, so the live feature needs a few jobs a day per community, not one per
    invite. The award is dated `due` and given if the invitee had not left before `due`."""
    utc = due.astimezone(UTC)
    mark = utc.replace(hour=utc.hour - utc.hour % 6, minute=0, second=0, microsecond=0)
    return mark if mark == utc else mark + RELEASE_EVERY


def invite_award(fact: InviteFact, settings: PointsSettings, at: datetime) -> Award | None:
    """The inviter's award, dated `at` (the join, or the end of the hold)."""
    return held_invite_award(fact.where, fact.inviter_id, fact.invitee_id,
                             settings.invite_points, at)


def held_invite_award(where: Where, inviter_id: int, invitee_id: int, amount: int,
                      at: datetime) -> Award | None:
    if amount <= 0 or inviter_id == invitee_id:
        return None
    return Award(where.org_id, where.community_id, inviter_id, where.group_id, amount, INVITE,
                 invite_key(where.community_id, invitee_id), at, where.source)


def stayed(left_at: datetime | None, due: datetime) -> bool:
    """Whether an invitee who left at `left_at` (None: still in) stayed through the hold."""
    return left_at is None or left_at >= due


def invite_key(community_id: int, invitee_id: int) -> str:
    return f"points:{INVITE}:{community_id}:{invitee_id}"


@dataclass
class _Held:
    """An invite waiting for its hold to end; `left_at`: when the invitee left, if they did."""

    award: Award
    group_id: int
    invitee_id: int
    left_at: datetime | None = None


class AwardReplay:
    """The rules over a stream of facts in event order, as the live feature runs them: feed
    the facts, then `finish`. Each award goes to `give` (the same key twice only once, as the
    ledger's keys do: only invite keys can repeat, the others come from distinct events)."""

    def __init__(self, settings_for: Callable[[int], PointsSettings],
                 give: Callable[[Award], None]) -> None:
        self._settings_for = settings_for
        self._give = give
        self._memories: dict[tuple[int, int], MemberMemory] = {}
        self._reacted: set[tuple[int, str, int]] = set()
        self._held: list[_Held] = []
        self._invitees: set[str] = set()

    def feed(self, fact: Fact) -> None:
        self._release(fact.at if isinstance(fact, LeaveFact) else fact.where.at)
        if isinstance(fact, LeaveFact):
            self._leave(fact)
            return
        settings = self._settings_for(fact.where.group_id)
        if not settings.enabled:
            return
        w = fact.where
        if isinstance(fact, MessageFact):
            self._award(message_award(fact, settings, self._memory(w.community_id,
                                                                   fact.person_id)))
        elif isinstance(fact, ReactionFact):
            pair = (w.group_id, fact.message_id, fact.reactor_id)
            first = pair not in self._reacted
            self._reacted.add(pair)
            self._award(reaction_award(fact, first, settings,
                                       self._memory(w.community_id, fact.author_id)))
        elif not settings.invite_hold_hours:
            self._award(invite_award(fact, settings, w.at))
        elif (award := invite_award(fact, settings, invite_due(w.at, settings))) is not None:
            self._held.append(_Held(award, w.group_id, fact.invitee_id))

    def finish(self, until: datetime) -> None:
        """Release the held invites whose release time is at most `until`."""
        self._release(until)

    def _memory(self, community_id: int, person_id: int) -> MemberMemory:
        return self._memories.setdefault((community_id, person_id), MemberMemory())

    def _award(self, award: Award | None) -> None:
        if award is None:
            return
        if award.reason == INVITE:
            if award.key in self._invitees:
                return
            self._invitees.add(award.key)
        self._give(award)

    def _release(self, until: datetime) -> None:
        """Held invites whose release time has come, in due order, as the live job takes them."""
        if not self._held or min(release_time(h.award.at) for h in self._held) > until:
            return
        due = [h for h in self._held if release_time(h.award.at) <= until]
        self._held = [h for h in self._held if release_time(h.award.at) > until]
        for held in sorted(due, key=lambda h: (h.award.at, h.award.source_event)):
            if stayed(held.left_at, held.award.at):
                self._award(held.award)

    def _leave(self, fact: LeaveFact) -> None:
        for held in self._held:
            if held.group_id == fact.group_id and held.left_at is None \
                    and fact.person_id in (None, held.invitee_id):
                held.left_at = fact.at


def replay_awards(facts: Iterable[Fact], settings_for: Callable[[int], PointsSettings],
                  until: datetime) -> list[Award]:
    """Every award the rules give for `facts` (in event order), with the settings of each
    fact's group; held invites are given once their release time is at most `until`."""
    awards: list[Award] = []
    replay = AwardReplay(settings_for, awards.append)
    for fact in facts:
        replay.feed(fact)
    replay.finish(until)
    return awards
