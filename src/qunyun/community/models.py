"""Tables of the community model. History is kept: leaving closes a period, nothing is deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime


class Organization(Base):
    """The tenant: a brand or a creator."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    language: Mapped[str] = mapped_column(String(16), default="zh_CN")
    # Bumped on every settings change so caches of effective settings know to reload.
    settings_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Community(Base):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    positioning: Mapped[str] = mapped_column(Text, default="")  # 定位
    value: Mapped[str] = mapped_column(Text, default="")  # 社群价值
    rules: Mapped[str] = mapped_column(Text, default="")  # 群规
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Group(Base):
    """One chat group on one platform."""

    __tablename__ = "groups"
    __table_args__ = (
        UniqueConstraint("org_id", "platform", "platform_id"),
        Index("ix_groups_org_id_community_id", "org_id", "community_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), nullable=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(String(32), default="other")
    store: Mapped[str | None] = mapped_column(String(200), nullable=True)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    notice: Mapped[str] = mapped_column(Text, default="")
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    playbook_id: Mapped[int | None] = mapped_column(ForeignKey("playbooks.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Person(Base):
    """One human across all groups and platforms."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    gender: Mapped[str | None] = mapped_column(String(16), nullable=True)
    age_band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    profession: Mapped[str | None] = mapped_column(String(100), nullable=True)
    income_band: Mapped[str | None] = mapped_column(String(32), nullable=True)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_channel: Mapped[str | None] = mapped_column(String(200), nullable=True)
    inviter_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PlatformAccount(Base):
    """A platform's user id, linked to one person."""

    __tablename__ = "platform_accounts"
    __table_args__ = (UniqueConstraint("org_id", "platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")


class Membership(Base):
    """One period of a person in a group. Re-joining opens a new row; leaving closes this one."""

    __tablename__ = "memberships"
    __table_args__ = (
        Index("ix_memberships_group_id_person_id", "group_id", "person_id"),
        Index("ix_memberships_person_id", "person_id"),
        # Who joined a group in a window (the welcome's newcomers, joins per day).
        Index("ix_memberships_group_id_joined_at", "group_id", "joined_at"),
        # At most one open period per person and group.
        Index("uq_memberships_open_period", "group_id", "person_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    role: Mapped[str] = mapped_column(String(16), default="member")
    status: Mapped[str] = mapped_column(String(16), default="active")
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    left_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    inviter_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    join_via: Mapped[str | None] = mapped_column(String(16), nullable=True)
    join_code: Mapped[str | None] = mapped_column(String(200), nullable=True)
    member_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # True when first seen by a message rather than a join (the join happened before qunyun).
    seen_before_join: Mapped[bool] = mapped_column(Boolean, default=False)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    first_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(100))


class GroupTag(Base):
    __tablename__ = "group_tags"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True)


class PersonTag(Base):
    __tablename__ = "person_tags"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True)


class ApiToken(Base):
    """A token scoped to one organization: `api` for the REST API, `bridge` for a bridge."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What an `api` token may do, like a staff member: a role, and a scope (None: the whole
    # organization; else {"communities": [ids], "stores": [names], "groups": [ids]}).
    role: Mapped[str] = mapped_column(String(16), default="admin", server_default="admin")
    scope: Mapped[dict[str, list[Any]] | None] = mapped_column(JSON, nullable=True)


class Playbook(Base):
    """A reusable setup kept as its TOML text; groups point at the one applied to them."""

    __tablename__ = "playbooks"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SettingsLayer(Base):
    """One layer of settings for one feature: organization, community, playbook or group."""

    __tablename__ = "settings_layers"
    __table_args__ = (UniqueConstraint("org_id", "scope", "scope_id", "feature"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    scope: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[int] = mapped_column(BigId)
    feature: Mapped[str] = mapped_column(String(64))
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
