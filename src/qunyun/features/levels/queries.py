"""Read-only views of levels and badges for the dashboard: the ladder with its head counts,
recent moves and badges, one person's standing. Callers pass which groups the viewer may see
(`visible`, a condition on `Group`): members of other groups are not shown or counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group, Membership, Person
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.community.settings import GroupScope, load_layers, merge
from qunyun.features.levels.ladder import BADGES
from qunyun.features.levels.models import BadgeAward, LevelActivity, LevelChange, LevelMember
from qunyun.features.levels.plugin import FEATURE, LevelsSettings
from qunyun.points.models import PointsBalance

RECENT = 20


async def community_settings(session: AsyncSession, org_id: int,
                             community_id: int) -> LevelsSettings:
    """The levels settings of a community (organization and community layers)."""
    layers = await load_layers(session, org_id)
    defaults = FEATURE.default_settings().model_dump()
    values = merge(defaults, layers, GroupScope(org_id, community_id, None, 0), FEATURE.name)
    try:
        return LevelsSettings.model_validate(values.values)
    except ValueError:
        return LevelsSettings()


def _members_of(community_id: int, visible: ColumnElement[bool]) -> ColumnElement[bool]:
    """Persons with an open membership in a visible group of the community."""
    inside = (select(Membership.person_id).join(Group, Group.id == Membership.group_id)
              .where(Group.community_id == community_id, visible,
                     Membership.status == MEMBERSHIP_ACTIVE))
    return Person.id.in_(inside)


async def head_counts(session: AsyncSession, community_id: int,
                      visible: ColumnElement[bool]) -> dict[int, int]:
    """Members per level (a member never looked at is on the first level)."""
    level = func.coalesce(LevelMember.level, 0)
    rows = await session.execute(
        select(level, func.count(Person.id))
        .select_from(Person)
        .outerjoin(LevelMember, (LevelMember.person_id == Person.id)
                   & (LevelMember.community_id == community_id))
        .where(_members_of(community_id, visible))
        .group_by(level))
    return {int(lvl): int(n) for lvl, n in rows}


@dataclass(frozen=True, slots=True)
class RecentMove:
    at: datetime
    person_id: int
    name: str
    from_level: int
    to_level: int
    title: str

    @property
    def promotion(self) -> bool:
        return self.to_level > self.from_level


@dataclass(frozen=True, slots=True)
class RecentBadge:
    at: datetime
    person_id: int
    name: str
    badge: str
    title: str  # a message id
    detail: str


async def recent_moves(session: AsyncSession, community_id: int,
                       visible: ColumnElement[bool]) -> list[RecentMove]:
    rows = await session.execute(
        select(LevelChange, Person.display_name).join(Person, Person.id == LevelChange.person_id)
        .where(LevelChange.community_id == community_id, _members_of(community_id, visible))
        .order_by(LevelChange.at.desc(), LevelChange.id.desc()).limit(RECENT))
    return [RecentMove(c.at, c.person_id, name or "", c.from_level, c.to_level, c.title)
            for c, name in rows]


async def recent_badges(session: AsyncSession, community_id: int,
                        visible: ColumnElement[bool]) -> list[RecentBadge]:
    rows = await session.execute(
        select(BadgeAward, Person.display_name).join(Person, Person.id == BadgeAward.person_id)
        .where(BadgeAward.community_id == community_id, _members_of(community_id, visible))
        .order_by(BadgeAward.awarded_at.desc(), BadgeAward.person_id).limit(RECENT))
    return [RecentBadge(b.awarded_at, b.person_id, name or "", b.badge,
                        BADGES.get(b.badge, b.badge), b.detail) for b, name in rows]


@dataclass(frozen=True, slots=True)
class Standing:
    """A person's place on a community's ladder."""

    level: int
    title: str
    threshold: int
    since: datetime | None
    value: int  # lifetime points, or messages in the window
    next_title: str | None
    next_threshold: int | None
    badges: list[RecentBadge]

    @property
    def progress(self) -> int:
        """Percent of the way from this level's threshold to the next one."""
        if self.next_threshold is None:
            return 100
        done = (self.value - self.threshold) / (self.next_threshold - self.threshold)
        return min(100, max(0, round(100 * done)))


async def standing(session: AsyncSession, *, settings: LevelsSettings, community_id: int,
                   person_id: int, today: date) -> Standing:
    row = (await session.execute(select(LevelMember.level, LevelMember.level_since).where(
        LevelMember.community_id == community_id, LevelMember.person_id == person_id))
    ).one_or_none()
    levels = settings.levels
    level = min(row.level if row else 0, len(levels) - 1)
    if settings.basis == "activity":
        first = today - timedelta(days=settings.activity_days - 1)
        value = await session.scalar(select(func.coalesce(func.sum(LevelActivity.messages), 0))
                                     .where(LevelActivity.community_id == community_id,
                                            LevelActivity.person_id == person_id,
                                            LevelActivity.day >= first,
                                            LevelActivity.day <= today))
    else:
        value = await session.scalar(select(PointsBalance.lifetime_earned).where(
            PointsBalance.community_id == community_id, PointsBalance.person_id == person_id))
    badges = await session.scalars(select(BadgeAward).where(
        BadgeAward.community_id == community_id, BadgeAward.person_id == person_id)
        .order_by(BadgeAward.awarded_at))
    following = levels[level + 1] if level + 1 < len(levels) else None
    return Standing(level, levels[level].name, levels[level].threshold,
                    row.level_since if row else None,
                    int(value or 0), following.name if following else None,
                    following.threshold if following else None,
                    [RecentBadge(b.awarded_at, person_id, "", b.badge,
                                 BADGES.get(b.badge, b.badge), b.detail) for b in badges])
