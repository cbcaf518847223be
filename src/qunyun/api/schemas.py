"""Response and request bodies of the REST API (pydantic). Times are UTC, RFC 3339."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qunyun.community.roles import PURPOSES


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the community model -------------------------------------------------------------------


class OrganizationOut(Out):
    id: int
    name: str
    slug: str
    timezone: str
    language: str
    created_at: datetime


class CommunityOut(Out):
    id: int
    name: str
    positioning: str
    value: str
    rules: str
    timezone: str | None
    language: str | None
    created_at: datetime


class CommunityIn(Input):
    name: str = Field(min_length=1, max_length=200)
    positioning: str = ""
    value: str = ""
    rules: str = ""


class GroupOut(Out):
    id: int
    community_id: int | None
    platform: str
    platform_id: str
    name: str
    purpose: str
    store: str | None
    capacity: int | None
    status: str
    notice: str
    owner_person_id: int | None
    playbook_id: int | None
    created_at: datetime
    dismissed_at: datetime | None
    tags: list[str] = []


class GroupIn(Input):
    platform: str = Field(min_length=1, max_length=32)
    platform_id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    community_id: int | None = None
    purpose: Literal[PURPOSES] = "other"  # type: ignore[valid-type]
    store: str | None = Field(default=None, max_length=200)
    capacity: int | None = Field(default=None, gt=0)
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50)


class DailyStatsOut(Out):
    day: date
    joins: int = 0
    leaves: int = 0
    messages: int = 0
    speakers: int = 0
    first_messages: int = 0


class GroupStatsOut(BaseModel):
    group_id: int
    timezone: str
    start: date
    end: date
    days: list[DailyStatsOut]


class GroupMemberOut(BaseModel):
    membership_id: int
    person_id: int
    name: str
    role: str
    status: str
    member_no: int | None
    joined_at: datetime | None
    left_at: datetime | None
    last_active_at: datetime | None
    message_count: int


class PersonOut(Out):
    id: int
    display_name: str
    gender: str | None
    age_band: str | None
    city: str | None
    profession: str | None
    income_band: str | None
    interests: list[str]
    source_channel: str | None
    inviter_person_id: int | None
    first_seen_at: datetime
    tags: list[str] = []


class AccountOut(Out):
    platform: str
    platform_user_id: str
    display_name: str


class MembershipOut(Out):
    id: int
    group_id: int
    person_id: int
    role: str
    status: str
    joined_at: datetime | None
    left_at: datetime | None
    left_reason: str | None
    inviter_person_id: int | None
    join_via: str | None
    join_code: str | None
    member_no: int | None
    seen_before_join: bool
    message_count: int
    first_message_at: datetime | None
    last_active_at: datetime | None


class HistoryOut(MembershipOut):
    group_name: str


class PersonDetailOut(PersonOut):
    accounts: list[AccountOut]
    history: list[HistoryOut]


# --- the pipeline ----------------------------------------------------------------------------


class EventOut(BaseModel):
    seq: int
    group_id: int | None
    person_id: int | None
    event: dict[str, Any]  # the canonical JSON exactly as accepted (bridge protocol)


class ActionOut(Out):
    seq: int
    id: str
    type: str
    platform: str
    group_id: int | None
    group_pid: str | None
    member_pid: str | None
    data: dict[str, Any]
    caused_by: str
    feature: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class TaskOut(Out):
    id: int
    group_id: int | None
    action_seq: int
    kind: str
    content: str
    assignee_person_id: int | None
    assignee_role: str | None
    reason: str
    status: str
    created_at: datetime
    done_at: datetime | None
    done_by: str | None


class FeatureOut(BaseModel):
    name: str
    title: str
    description: str
    order: int
    events: list[str]
    on_by_default: bool
    settings_schema: dict[str, Any]


class FailureOut(Out):
    id: int
    feature: str
    event: str | None
    job_id: str | None
    error: str
    at: datetime
