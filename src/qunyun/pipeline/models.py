"""The pipeline's tables: the event log, the outbox, staff tasks, scheduled jobs, failures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunyun.db.base import Base, BigId, UTCDateTime


class EventRecord(Base):
    """The append-only event log. `body` is the canonical JSON exactly as accepted."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("org_id", "platform", "external_id"),
        Index("ix_events_group_id_seq", "group_id", "seq"),
        Index("ix_events_person_id_seq", "person_id", "seq"),
        Index("ix_events_org_id_seq", "org_id", "seq"),
        Index("ix_events_group_id_message_ref", "group_id", "message_ref"),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    # No foreign keys to groups and persons: the log is append-only and written in bulk, and
    # checking two keys per row costs a third of the insert on PostgreSQL.
    group_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    person_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    # The platform's message id of a posted message, so replies and reactions can find it.
    message_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[str] = mapped_column(Text)


class ActionRecord(Base):
    """The outbox: every action a feature asked for, and what became of it."""

    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_actions_org_id_platform_seq", "org_id", "platform", "seq"),
        Index("ix_actions_group_id_seq", "group_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    platform: Mapped[str] = mapped_column(String(32))
    group_pid: Mapped[str | None] = mapped_column(String(200), nullable=True)
    member_pid: Mapped[str | None] = mapped_column(String(200), nullable=True)
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    caused_by: Mapped[str] = mapped_column(String(200))
    feature: Mapped[str] = mapped_column(String(64))
    # pending → dispatched → done | failed; or task (turned into a staff task)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffTask(Base):
    """A to-do for a group's owner or assistant: an action the platform cannot perform."""

    __tablename__ = "staff_tasks"
    __table_args__ = (
        Index("ix_staff_tasks_org_id_status", "org_id", "status"),
        Index("ix_staff_tasks_group_id_status", "group_id", "status"),  # the group page
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    action_seq: Mapped[int] = mapped_column(ForeignKey("actions.seq"), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    assignee_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    assignee_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ScheduledJob(Base):
    """Work due at a logical time; the scheduler fires it as the clock passes `due_at`."""

    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        UniqueConstraint("feature", "key"),
        Index("ix_scheduled_jobs_status_due_at", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    feature: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FeatureFailure(Base):
    """A feature handler that raised: recorded, isolated, visible."""

    __tablename__ = "feature_failures"
    __table_args__ = (Index("ix_feature_failures_org_id_id", "org_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    feature: Mapped[str] = mapped_column(String(64))
    event: Mapped[str | None] = mapped_column(String(240), nullable=True)  # platform:id
    job_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
