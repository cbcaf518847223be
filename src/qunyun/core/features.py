"""What a feature is and what it sees while it decides.

A feature declares its metadata, its settings model (pydantic, with defaults) and its handlers.
The pipeline builds a `FeatureContext` for each event (or fired job) and calls the handler;
the handler changes state through its service and asks for actions with `emit`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from qunyun.core.actions import ActionRequest
from qunyun.core.clock import Clock
from qunyun.core.events import Event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
# The settings section every feature reads (time zone, language); no feature may take its name.
RESERVED_SECTION = "community"


class FeatureSettings(BaseModel):
    """Base of every feature's settings: strict keys, `enabled` first."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    enabled: bool = False


S = TypeVar("S")


class DerivedFromSettings(Generic[S, T]):
    """What a feature computes from its settings (compiled rules, an automaton), kept per
    settings object: the pipeline keeps one object per group until the settings change, so
    identity is the key, and the object is held so its id is not reused. Reading a cached
    value is one dict lookup (a private attribute on a pydantic model is many times that)."""

    def __init__(self, build: Callable[[S], T], size: int = 256) -> None:
        self._build = build
        self._size = size
        self._known: dict[int, tuple[S, T]] = {}

    def __call__(self, settings: S) -> T:
        known = self._known.get(id(settings))
        if known is not None and known[0] is settings:
            return known[1]
        value = self._build(settings)
        if len(self._known) >= self._size:
            self._known.pop(next(iter(self._known)))  # the oldest
        self._known[id(settings)] = (settings, value)
        return value


class UnitOfWork(Protocol):
    """One transaction of the pipeline: the session, per-batch scratch space, pre-commit hooks."""

    @property
    def session(self) -> AsyncSession: ...

    def scratch(self, key: str, factory: Callable[[], T]) -> T: ...

    def before_commit(self, key: str, hook: Callable[[AsyncSession], Awaitable[None]]) -> None: ...


@dataclass(frozen=True, slots=True)
class GroupInfo:
    id: int
    org_id: int
    community_id: int | None
    platform: str
    platform_id: str
    name: str
    purpose: str
    timezone: str
    language: str
    answers: str = "group"  # "private": replies to a member go to them privately


@dataclass(frozen=True, slots=True)
class MemberInfo:
    person_id: int
    membership_id: int | None
    role: str
    status: str
    member_no: int | None
    joined_at: datetime | None
    new_membership: bool  # this event opened the membership period
    messages_before: int  # messages in this period before the current event
    seen_before_join: bool  # first seen by activity: the join happened before qunyun saw it


@dataclass(frozen=True, slots=True)
class MessageInfo:
    """A message posted earlier in the group, as the event log keeps it."""

    event_id: str
    message_id: str
    person_id: int | None
    member: str | None  # the author's platform id
    name: str  # the author's display name when the message was posted
    at: datetime
    kind: str
    text: str


async def _no_messages(_message_id: str) -> MessageInfo | None:
    return None


MessageLookup = Callable[[str], Awaitable[MessageInfo | None]]


@dataclass(slots=True)
class FeatureContext:
    """Everything a handler may use. Time is `now` (the event's time, or the job's due time).

    The pipeline hands one context per event to each feature in turn, with that feature's
    `settings` and empty `actions` and `schedules`: a handler must not keep it after returning."""

    uow: UnitOfWork
    clock: Clock
    now: datetime
    group: GroupInfo | None
    # A handler that changes the member's record (the gate numbering a newcomer) may replace
    # this with `dataclasses.replace(...)`: features after it see the new value.
    member: MemberInfo | None
    settings: Any
    event: Event | None = None
    job: Job | None = None
    actions: list[ActionRequest] = field(default_factory=list)
    stopped: bool = False
    schedules: list[JobRequest] = field(default_factory=list)
    # Every feature's settings for this group (the `help` feature lists what is on).
    group_settings: Mapping[str, FeatureSettings] = field(default_factory=dict)
    # A message of this group by its platform message id (replies, reactions, highlights).
    find_message: MessageLookup = _no_messages
    # The features the pipeline runs (the `help` feature describes the ones that are on).
    registry: FeatureRegistry | None = None

    @property
    def session(self) -> AsyncSession:
        return self.uow.session

    @property
    def locale(self) -> str:
        """The language of the bot's replies in this group."""
        return self.group.language if self.group else "zh_CN"

    def emit(self, request: ActionRequest) -> None:
        self.actions.append(request)

    def stop(self) -> None:
        """Stop propagation: features after this one do not see the event."""
        self.stopped = True

    def schedule(self, kind: str, due_at: datetime, payload: dict[str, Any] | None = None,
                 *, key: str | None = None) -> None:
        """Ask the scheduler to call this feature's job handler at `due_at` (logical time)."""
        self.schedules.append(JobRequest(kind, due_at, payload or {}, key))


@dataclass(frozen=True, slots=True)
class JobRequest:
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    key: str | None = None  # a unique key per feature: scheduling the same key again is a no-op


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    feature: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    group_id: int | None


Handler = Callable[[FeatureContext], Awaitable[None]]
# How members use a feature with the given settings, one line per command, in `locale`.
Usage = Callable[[Any, str], list[str]]


@dataclass(frozen=True, slots=True)
class Feature:
    """A feature's registration; built-in features use the mechanism a third-party one would."""

    name: str
    title: str  # message id, translated for display
    description: str  # message id
    order: int  # lower runs first (moderation before points)
    events: frozenset[str]
    settings_model: type[FeatureSettings]
    handle: Handler
    on_job: Handler | None = None
    on_by_default: bool = False
    usage: Usage | None = None
    # Run the handler inside a SAVEPOINT so a failure leaves no partial writes. A feature whose
    # handler only feeds per-batch accumulators (no I/O) may turn it off for speed.
    savepoint: bool = True
    # Also run on events outside any group (payments, private messages) whatever the settings
    # say: such an event concerns groups the handler finds itself (the payer's pending request,
    # the case an appeal is about), each with its own settings. The handler gets the
    # organization's settings.
    outside_groups: bool = False
    # Loads what the handler would otherwise load on its first event (a dictionary, character
    # tables), so that no member waits for it: the server runs it at startup, off the event
    # loop. It must be safe to run twice and alongside the handler.
    warm_up: Callable[[], None] | None = None

    def default_settings(self) -> FeatureSettings:
        return self.settings_model(enabled=self.on_by_default)


class FeatureRegistry:
    """The explicit, ordered list of features the pipeline runs."""

    def __init__(self, features: list[Feature]) -> None:
        names = [f.name for f in features]
        if RESERVED_SECTION in names:
            raise ValueError(f"{RESERVED_SECTION!r} is the community settings section, "
                             "not a feature name")
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"feature registered twice: {sorted(duplicates)}")
        self._features = sorted(features, key=lambda f: (f.order, f.name))
        self._by_name = {f.name: f for f in self._features}
        self._by_event: dict[str, list[Feature]] = {}
        for feature in self._features:
            for event_type in feature.events:
                self._by_event.setdefault(event_type, []).append(feature)

    def __iter__(self) -> Iterator[Feature]:
        return iter(self._features)

    def __len__(self) -> int:
        return len(self._features)

    def get(self, name: str) -> Feature | None:
        return self._by_name.get(name)

    def for_event(self, event_type: str) -> list[Feature]:
        return self._by_event.get(event_type, [])

    @property
    def names(self) -> list[str]:
        return [f.name for f in self._features]

    def warm_up(self) -> None:
        """Run every feature's `warm_up` (blocking: a second or two)."""
        for feature in self._features:
            if feature.warm_up is not None:
                feature.warm_up()
