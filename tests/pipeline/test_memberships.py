"""Identities: persons and memberships created on first sight, kept as history."""

from __future__ import annotations

from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Group, Membership, Person, PlatformAccount
from qunyun.core import events as E
from qunyun.core.actions import send_message
from qunyun.core.features import Feature, FeatureContext, FeatureSettings
from qunyun.pipeline.models import ActionRecord
from tests import factories as f
from tests.pipeline.conftest import RuntimeFactory


async def periods(rt: Runtime) -> list[Membership]:
    async with rt.sessions() as session:
        return list((await session.scalars(select(Membership).order_by(Membership.id))).all())


async def test_leave_and_rejoin_open_a_second_period(runtime: Runtime, org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [
        f.joined("u1", name="小王", inviter="u7", via="invite", code="C42", minutes=0),
        f.message("u1", minutes=1),
        f.left("u1", minutes=2),
        f.joined("u1", minutes=3),
        f.left("u1", reason="kicked", by="admin", minutes=4),
    ])
    first, second = await periods(runtime)
    assert (first.status, first.left_reason, first.message_count) == ("left", "quit", 1)
    assert first.join_via == "invite" and first.join_code == "C42"
    assert first.inviter_person_id == await inviter(runtime)
    assert (second.status, second.left_reason) == ("kicked", "kicked")
    assert second.joined_at is not None and first.left_at is not None
    assert second.joined_at > first.left_at


async def inviter(rt: Runtime) -> int:
    async with rt.sessions() as session:
        found = await session.scalar(select(PlatformAccount.person_id)
                                     .where(PlatformAccount.platform_user_id == "u7"))
    assert found is not None
    return found


async def test_a_join_resent_by_the_platform_opens_no_new_period(runtime: Runtime,
                                                                 org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [f.joined("u1"), f.joined("u1")])
    assert len(await periods(runtime)) == 1


async def test_someone_already_inside_is_recorded_on_first_message(runtime: Runtime,
                                                                   org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [f.message("u9", "早", name="老张")])
    [period] = await periods(runtime)
    assert period.seen_before_join and period.joined_at is None and period.status == "active"
    async with runtime.sessions() as session:
        person = await session.scalar(select(Person))
    assert person is not None and person.display_name == "老张"


async def test_leaving_unseen_member_still_leaves_a_record(runtime: Runtime,
                                                           org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [f.left("u5")])
    [period] = await periods(runtime)
    assert period.status == "left" and period.seen_before_join


async def test_one_person_across_groups(runtime: Runtime, org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [f.joined("u1", group="g1"),
                                           f.joined("u1", group="g2")])
    a, b = await periods(runtime)
    assert a.person_id == b.person_id and a.group_id != b.group_id


async def test_group_events_update_and_dismiss(runtime: Runtime, org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [
        f.event("group.created", member=None, name="北京一群", capacity=500, owner="u1"),
        f.joined("u1"), f.joined("u2"),
        f.event("group.updated", member=None, notice="群规：友善发言", minutes=1),
        f.event("group.dismissed", member=None, minutes=2),
    ])
    async with runtime.sessions() as session:
        group = await session.scalar(select(Group))
    assert group is not None
    assert (group.name, group.capacity, group.notice, group.status) == (
        "北京一群", 500, "群规：友善发言", "dismissed")
    assert {p.status for p in await periods(runtime)} == {"left"}
    assert {p.left_reason for p in await periods(runtime)} == {"dismissed"}


async def test_rename_updates_the_person(runtime: Runtime, org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [f.joined("u1", name="old"),
                                           f.event("member.renamed", member="u1", name="新名字")])
    async with runtime.sessions() as session:
        person = await session.scalar(select(Person))
    assert person is not None and person.display_name == "新名字"


async def test_first_sight_of_a_group_puts_it_in_the_default_community(
        runtime: Runtime, org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [f.message("u1", group="new-group")])
    async with runtime.sessions() as session:
        group = await session.scalar(select(Group))
    assert group is not None and group.community_id is not None and group.org_id == org_id


class _CounterSettings(FeatureSettings):
    enabled: bool = True


async def _count_members(ctx: FeatureContext) -> None:
    """Answers with the open periods it reads in the database; fails on `boom` after
    reading (inside the pipeline's savepoint)."""
    assert ctx.event is not None
    counted = await ctx.session.scalar(select(func.count()).select_from(Membership)
                                       .where(Membership.status == "active"))
    if ctx.event.data.get("text") == "boom":
        raise RuntimeError("boom")
    ctx.emit(send_message(f"members {counted}"))


COUNTER = Feature(name="counter", title="Counter", description="Counts memberships.",
                  order=100, events=frozenset({E.MESSAGE_POSTED}),
                  settings_model=_CounterSettings, handle=_count_members, on_by_default=True)


async def test_periods_opened_in_a_batch_are_seen_by_features_and_survive_their_failure(
        make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(COUNTER)
    await rt.pipeline.ingest(org, [f.message("u1", "hi"), f.message("u2", "boom"),
                                   f.joined("u3"), f.message("u4", "count")])
    async with rt.sessions() as session:
        texts = [a.data["text"] for a in (await session.scalars(
            select(ActionRecord).where(ActionRecord.feature == "counter")
            .order_by(ActionRecord.seq))).all()]
        people = (await session.execute(
            select(PlatformAccount.platform_user_id).join(
                Membership, Membership.person_id == PlatformAccount.person_id)
            .order_by(Membership.id))).scalars().all()
    assert texts == ["members 1", "members 4"]
    assert people == ["u1", "u2", "u3", "u4"]  # ids in the order of first sight


async def test_a_role_change_on_the_platform_is_the_members_role(
        make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime()
    await rt.pipeline.ingest(org, [f.joined("u1"), f.event("member.role_changed", member="u1",
                                                            role="admin", minutes=1)])
    async with rt.sessions() as session:
        assert await session.scalar(select(Membership.role)) == "admin"
    await rt.pipeline.ingest(org, [f.event("member.role_changed", member="u1", role="member",
                                           minutes=2)])
    async with rt.sessions() as session:
        assert await session.scalar(select(Membership.role)) == "member"
