"""`qunyun demo`: a brand with playground groups, a month of history through the real pipeline,
and an owner login; a second run changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from qunyun.app.demo import DEMO_SLUG, DemoParams, build_demo
from qunyun.cli.main import app
from qunyun.community.models import Community, Group, GroupTag, Organization, Person, Tag
from qunyun.community.roles import PURPOSES
from qunyun.community.staff import StaffUser
from qunyun.community.staff_sessions import password_matches
from qunyun.core.config import Config
from qunyun.db.engine import create_engine, session_factory
from qunyun.features.gate.models import JoinRequest
from qunyun.features.moderation.appeal_models import ModerationAppeal
from qunyun.features.moderation.models import ModerationCase
from qunyun.features.stats.models import DailyStats
from qunyun.pipeline.models import ActionRecord, EventRecord
from tests.conftest import START

SMALL = DemoParams(seed=3, members=120, groups=9, days=30)
NOW = START + timedelta(hours=10, minutes=17)


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", database_url=database_url)


async def test_the_demo_has_a_brand_groups_history_and_a_login(config: Config) -> None:
    result = await build_demo(config, SMALL, now=NOW)
    assert result.created and result.password and result.groups == 9
    engine = create_engine(config.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            org = await session.scalar(select(Organization).where(Organization.slug == DEMO_SLUG))
            assert org is not None and org.name == "示例品牌"
            community = await session.scalar(select(Community).where(Community.org_id == org.id))
            assert community is not None and community.positioning and community.rules
            groups = (await session.scalars(select(Group).where(Group.org_id == org.id))).all()
            assert {g.platform for g in groups} == {"playground"}
            assert {g.purpose for g in groups} == set(PURPOSES) - {"other"}
            assert len({g.store for g in groups}) == 4
            tags = set(await session.scalars(select(Tag.name).join(GroupTag,
                                                                   GroupTag.tag_id == Tag.id)))
            assert {"北京", "上海"} <= tags and tags & {"咖啡", "健身"}
            last = await session.scalar(select(func.max(EventRecord.at)))
            assert last is not None and NOW - timedelta(hours=3) < last <= NOW
            days = set(await session.scalars(select(DailyStats.day)
                                             .where(DailyStats.messages > 0)))
            today = (NOW + timedelta(hours=8)).date()
            assert {today - timedelta(days=n) for n in range(1, 8)} <= days
            statuses = set(await session.scalars(select(ActionRecord.status)))
            assert statuses <= {"skipped"}  # history is never delivered
            assert await session.scalar(select(func.count()).select_from(Person)
                                        .where(Person.city.is_not(None))) == result.persons
            owner = await session.scalar(select(StaffUser).where(StaffUser.username == "demo"))
            assert owner is not None and owner.role == "owner" and owner.org_id == org.id
            assert password_matches(owner.password_hash, result.password)
            events = await session.scalar(select(func.count()).select_from(EventRecord))
            cases = list(await session.scalars(select(ModerationCase)
                                               .order_by(ModerationCase.id)))
            appeals = await session.scalar(select(func.count()).select_from(ModerationAppeal))
            pending = await session.scalar(select(func.count()).select_from(JoinRequest)
                                           .where(JoinRequest.status == "pending"))
    finally:
        await engine.dispose()
    assert events == result.events
    assert [c.action for c in cases] == ["delete+warn", "delete+warn", "delete+mute:600",
                                         "delete+warn"]  # the governance day's advertisers
    assert (appeals, pending) == (1, 1)

    again = await build_demo(config, SMALL, now=NOW + timedelta(days=1))
    assert not again.created and again.org_id == org.id and again.password is None


def test_the_command_prints_the_login_once(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "demo.db")
    first = runner.invoke(app, ["demo", "--db", db, "--members", "60", "--groups", "9",
                                "--quiet"], env={"QUNYUN_LANGUAGE": "en"})
    assert first.exit_code == 0, first.output
    assert "Username: demo" in first.output and "Password: " in first.output
    again = runner.invoke(app, ["demo", "--db", db, "--quiet"], env={"QUNYUN_LANGUAGE": "en"})
    assert again.exit_code == 0
    assert "exists already" in again.output and "Password: " not in again.output
    assert "qunyun user passwd --username demo --org demo" in again.output


def test_if_empty_leaves_a_database_with_an_organization_alone(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "other.db")
    assert runner.invoke(app, ["org", "create", "shop", "某店", "--db", db]).exit_code == 0
    result = runner.invoke(app, ["demo", "--db", db, "--if-empty", "--quiet"])
    assert result.exit_code == 0 and result.output == ""
