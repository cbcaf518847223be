"""The organization blacklist (黑名单) and the opt-in shared list between organizations.

An entry bans one person from every group of the organization, on every platform, until it
expires or staff remove it. Entries are never deleted: removing one stamps `removed_at`.
Each entry keeps a snapshot of the person's platform accounts, because a person id means
nothing in another organization: an organization that *subscribes* to another's shared list
matches that list's entries by (platform, platform_user_id).

Sharing is opt-in twice: the publishing organization marks entries `shared`, and the reading
organization subscribes to the publisher. Subscriptions end (they keep their history too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.community.access import Principal
from qunyun.community.audit import do_record
from qunyun.community.models import Organization, Person, PlatformAccount
from qunyun.core.errors import Conflict, ErrorCollector, FieldError, InvalidInput, NotFound
from qunyun.core.i18n import N_
from qunyun.db.base import Base, BigId, UTCDateTime
from qunyun.db.dialect import among

MAX_REASON = 500
REPLACED = "replaced"  # `removed_by` of an entry a newer one for the same person replaced
Actor = Principal | str  # staff (audited) or an automatic actor such as "moderation:kick"


class BlacklistEntry(Base):
    __tablename__ = "blacklist_entries"
    __table_args__ = (
        Index("ix_blacklist_entries_org_id_person_id", "org_id", "person_id"),
        Index("ix_blacklist_entries_org_id_added_at", "org_id", "added_at"),
        # At most one standing entry per person and organization.
        Index("uq_blacklist_entries_standing", "org_id", "person_id", unique=True,
              sqlite_where=text("removed_at IS NULL"),
              postgresql_where=text("removed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    display_name: Mapped[str] = mapped_column(String(200), default="")  # when added
    reason: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)

    def in_force(self, at: datetime) -> bool:
        return self.removed_at is None and (self.expires_at is None or self.expires_at > at)


class BlacklistAccount(Base):
    """A platform account of a blacklisted person, as it was when the entry was added."""

    __tablename__ = "blacklist_accounts"
    __table_args__ = (
        Index("ix_blacklist_accounts_platform_platform_user_id", "platform", "platform_user_id"),
    )

    entry_id: Mapped[int] = mapped_column(ForeignKey("blacklist_entries.id"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform_user_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class BlacklistSubscription(Base):
    """`org_id` reads the shared entries of `source_org_id` while the subscription stands."""

    __tablename__ = "blacklist_subscriptions"
    __table_args__ = (
        Index("uq_blacklist_subscriptions_standing", "org_id", "source_org_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    source_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


def _in_force(at: datetime) -> ColumnElement[bool]:
    return and_(BlacklistEntry.removed_at.is_(None),
                or_(BlacklistEntry.expires_at.is_(None), BlacklistEntry.expires_at > at))


def _actor_name(actor: Actor) -> str:
    return actor.actor if isinstance(actor, Principal) else actor


def _snapshot(entry: BlacklistEntry) -> dict[str, Any]:
    return {"person_id": entry.person_id, "reason": entry.reason, "shared": entry.shared,
            "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
            "removed_at": entry.removed_at.isoformat() if entry.removed_at else None}


async def _audit(session: AsyncSession, actor: Actor, action: str, entry: BlacklistEntry,
                 before: dict[str, Any] | None, at: datetime) -> None:
    if isinstance(actor, Principal):
        await do_record(session, principal=actor, action=action, target_type="blacklist",
                        target_id=entry.id, before=before, after=_snapshot(entry), at=at)


# --- reading ----------------------------------------------------------------------------------

async def subscribed_sources(session: AsyncSession, *, org_id: int) -> list[int]:
    """The organizations whose shared entries `org_id` reads."""
    rows = await session.scalars(select(BlacklistSubscription.source_org_id).where(
        BlacklistSubscription.org_id == org_id, BlacklistSubscription.ended_at.is_(None)))
    return sorted(rows)


async def find_blacklisted(session: AsyncSession, *, org_id: int, person_id: int,
                           at: datetime) -> BlacklistEntry | None:
    """The entry in force at `at` that bars the person: the organization's own first, then the
    shared entries of the organizations it subscribes to (matched by platform account)."""
    own = await session.scalar(select(BlacklistEntry).where(
        BlacklistEntry.org_id == org_id, BlacklistEntry.person_id == person_id, _in_force(at))
        .order_by(BlacklistEntry.id.desc()).limit(1))
    if own is not None:
        return own
    sources = await subscribed_sources(session, org_id=org_id)
    if not sources:
        return None
    accounts = (await session.execute(select(PlatformAccount.platform,
                                             PlatformAccount.platform_user_id).where(
        PlatformAccount.org_id == org_id, PlatformAccount.person_id == person_id))).all()
    if not accounts:
        return None
    keys = [(platform, user) for platform, user in accounts]
    entry: BlacklistEntry | None = await session.scalar(
        select(BlacklistEntry)
        .join(BlacklistAccount, BlacklistAccount.entry_id == BlacklistEntry.id)
        .where(BlacklistEntry.org_id.in_(sources), BlacklistEntry.shared.is_(True),
               among(session, BlacklistAccount.platform, BlacklistAccount.platform_user_id,
                     values=keys),
               _in_force(at))
        .order_by(BlacklistEntry.id.desc()).limit(1))
    return entry


@dataclass(frozen=True, slots=True)
class EntryPage:
    entries: list[BlacklistEntry]
    total: int
    accounts: dict[int, list[tuple[str, str]]]  # entry id -> (platform, user id)


async def list_entries(session: AsyncSession, *, org_id: int, at: datetime,
                       search: str = "", include_ended: bool = False, limit: int = 50,
                       offset: int = 0) -> EntryPage:
    """The organization's entries, newest first: those in force, or all with `include_ended`;
    `search` matches the name, the reason or a platform user id."""
    conditions: list[ColumnElement[bool]] = [BlacklistEntry.org_id == org_id]
    if not include_ended:
        conditions.append(_in_force(at))
    needle = search.strip()
    if needle:
        like = f"%{needle}%"
        by_account = select(BlacklistAccount.entry_id).where(
            BlacklistAccount.platform_user_id.like(like))
        conditions.append(or_(BlacklistEntry.display_name.like(like),
                              BlacklistEntry.reason.like(like), BlacklistEntry.id.in_(by_account)))
    total = await session.scalar(select(func.count()).select_from(BlacklistEntry)
                                 .where(*conditions))
    entries = list(await session.scalars(select(BlacklistEntry).where(*conditions)
                                         .order_by(BlacklistEntry.id.desc())
                                         .limit(limit).offset(offset)))
    accounts: dict[int, list[tuple[str, str]]] = {e.id: [] for e in entries}
    if entries:
        rows = await session.execute(select(BlacklistAccount).where(
            BlacklistAccount.entry_id.in_(list(accounts)))
            .order_by(BlacklistAccount.platform, BlacklistAccount.platform_user_id))
        for account in rows.scalars():
            accounts[account.entry_id].append((account.platform, account.platform_user_id))
    return EntryPage(entries, int(total or 0), accounts)


async def find_person(session: AsyncSession, *, org_id: int, ref: str) -> Person:
    """A member of the organization named as `platform:user_id` or by their number."""
    platform, colon, user = ref.strip().partition(":")
    if colon and platform and user:
        query = select(Person).join(PlatformAccount, PlatformAccount.person_id == Person.id).where(
            PlatformAccount.org_id == org_id, PlatformAccount.platform == platform,
            PlatformAccount.platform_user_id == user)
    elif platform.isdigit() and not colon:
        query = select(Person).where(Person.org_id == org_id, Person.id == int(platform))
    else:
        raise InvalidInput(N_("name a member as platform:user_id or by their number"),
                           errors=[FieldError("member", N_("name a member as platform:user_id "
                                                           "or by their number"))])
    person = await session.scalar(query)
    if person is None:
        raise NotFound(N_("no member {member} in this organization"), member=ref.strip(),
                       errors=[FieldError("member", N_("no such member"))])
    return person


# --- changing ---------------------------------------------------------------------------------

def check_entry(*, reason: str, at: datetime, expires_at: datetime | None) -> str:
    """The reason, trimmed; InvalidInput naming each field that is wrong."""
    errors = ErrorCollector()
    cleaned = reason.strip()
    if not cleaned:
        errors.add("reason", "is required")
    elif len(cleaned) > MAX_REASON:
        errors.add("reason", "must be at most {limit} characters", limit=MAX_REASON)
    if expires_at is not None and expires_at <= at:
        errors.add("expires_at", N_("must be in the future"))
    if errors:
        raise InvalidInput(N_("the blacklist entry is not valid"), errors=errors.errors)
    return cleaned


async def do_blacklist(session: AsyncSession, *, org_id: int, person_id: int, reason: str,
                       added_by: Actor, at: datetime, expires_at: datetime | None = None,
                       shared: bool = False) -> BlacklistEntry:
    """Bar the person from the organization's groups. A standing entry for the same person is
    replaced (closed with `removed_by="replaced"`), so blacklisting twice never fails."""
    cleaned = check_entry(reason=reason, at=at, expires_at=expires_at)
    person = await session.scalar(select(Person).where(Person.id == person_id,
                                                       Person.org_id == org_id))
    if person is None:
        raise NotFound(N_("no such member: {id}"), id=person_id)
    standing = await session.scalar(select(BlacklistEntry).where(
        BlacklistEntry.org_id == org_id, BlacklistEntry.person_id == person_id,
        BlacklistEntry.removed_at.is_(None)))
    if standing is not None:
        standing.removed_at, standing.removed_by = at, REPLACED
        await session.flush()
    entry = BlacklistEntry(org_id=org_id, person_id=person_id, display_name=person.display_name,
                           reason=cleaned, added_by=_actor_name(added_by), added_at=at,
                           expires_at=expires_at, shared=shared)
    session.add(entry)
    await session.flush()
    accounts = await session.execute(select(PlatformAccount.platform,
                                            PlatformAccount.platform_user_id).where(
        PlatformAccount.org_id == org_id, PlatformAccount.person_id == person_id))
    session.add_all(BlacklistAccount(entry_id=entry.id, platform=platform, platform_user_id=user)
                    for platform, user in accounts)
    await session.flush()
    await _audit(session, added_by, "blacklist.add", entry,
                 _snapshot(standing) if standing else None, at)
    return entry


async def _standing_entry(session: AsyncSession, org_id: int, entry_id: int) -> BlacklistEntry:
    entry = await session.scalar(select(BlacklistEntry).where(
        BlacklistEntry.org_id == org_id, BlacklistEntry.id == entry_id))
    if entry is None:
        raise NotFound(N_("no such blacklist entry: {id}"), id=entry_id)
    if entry.removed_at is not None:
        raise Conflict(N_("this blacklist entry was already removed"))
    return entry


async def do_remove(session: AsyncSession, *, org_id: int, entry_id: int, removed_by: Actor,
                    at: datetime) -> BlacklistEntry:
    """Lift an entry (it stays in the history with who removed it and when)."""
    entry = await _standing_entry(session, org_id, entry_id)
    before = _snapshot(entry)
    entry.removed_at, entry.removed_by = at, _actor_name(removed_by)
    await session.flush()
    await _audit(session, removed_by, "blacklist.remove", entry, before, at)
    return entry


async def do_set_shared(session: AsyncSession, *, org_id: int, entry_id: int, shared: bool,
                        actor: Actor, at: datetime) -> BlacklistEntry:
    """Show the entry to the organizations subscribed to this one's shared list, or stop."""
    entry = await _standing_entry(session, org_id, entry_id)
    before = _snapshot(entry)
    entry.shared = shared
    await session.flush()
    await _audit(session, actor, "blacklist.share" if shared else "blacklist.unshare", entry,
                 before, at)
    return entry


# --- subscriptions ----------------------------------------------------------------------------

async def do_subscribe(session: AsyncSession, *, org_id: int, source_slug: str,
                       principal: Principal, at: datetime) -> BlacklistSubscription:
    """Read the shared entries of the organization `source_slug` from now on."""
    source = await session.scalar(select(Organization).where(
        Organization.slug == source_slug.strip()))
    if source is None:
        raise NotFound(N_("no such organization: {slug}"), slug=source_slug.strip())
    if source.id == org_id:
        raise InvalidInput(N_("an organization cannot subscribe to its own list"))
    if source.id in await subscribed_sources(session, org_id=org_id):
        raise Conflict(N_("already subscribed to {slug}"), slug=source.slug)
    subscription = BlacklistSubscription(org_id=org_id, source_org_id=source.id, created_at=at,
                                         created_by=principal.actor)
    session.add(subscription)
    await session.flush()
    await do_record(session, principal=principal, action="blacklist.subscribe",
                    target_type="blacklist_subscription", target_id=subscription.id,
                    before=None, after={"source": source.slug}, at=at)
    return subscription


async def do_unsubscribe(session: AsyncSession, *, org_id: int, subscription_id: int,
                         principal: Principal, at: datetime) -> BlacklistSubscription:
    subscription = await session.scalar(select(BlacklistSubscription).where(
        BlacklistSubscription.org_id == org_id, BlacklistSubscription.id == subscription_id,
        BlacklistSubscription.ended_at.is_(None)))
    if subscription is None:
        raise NotFound(N_("no such subscription: {id}"), id=subscription_id)
    subscription.ended_at, subscription.ended_by = at, principal.actor
    await session.flush()
    await do_record(session, principal=principal, action="blacklist.unsubscribe",
                    target_type="blacklist_subscription", target_id=subscription.id,
                    before={"source_org_id": subscription.source_org_id}, after=None, at=at)
    return subscription


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    subscription: BlacklistSubscription
    source_name: str
    source_slug: str
    shared_in_force: int  # the source's shared entries in force now


async def list_subscriptions(session: AsyncSession, *, org_id: int,
                             at: datetime) -> list[SubscriptionRow]:
    rows = (await session.execute(
        select(BlacklistSubscription, Organization.name, Organization.slug)
        .join(Organization, Organization.id == BlacklistSubscription.source_org_id)
        .where(BlacklistSubscription.org_id == org_id, BlacklistSubscription.ended_at.is_(None))
        .order_by(Organization.name))).all()
    counts: dict[int, int] = {}
    for source_id, count in (await session.execute(
            select(BlacklistEntry.org_id, func.count())
            .where(BlacklistEntry.org_id.in_([s.source_org_id for s, _, _ in rows]),
                   BlacklistEntry.shared.is_(True), _in_force(at))
            .group_by(BlacklistEntry.org_id))).all():
        counts[source_id] = int(count)
    return [SubscriptionRow(s, name, slug, counts.get(s.source_org_id, 0))
            for s, name, slug in rows]
