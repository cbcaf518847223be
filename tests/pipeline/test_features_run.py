"""Features in declared order, stop-propagation, isolation of failures, the outbox."""

from __future__ import annotations

import jieba
from sqlalchemy import select

from qunyun.app.features import builtin_registry
from qunyun.community.models import Organization
from qunyun.core import events as E
from qunyun.core.features import Feature, FeatureContext
from qunyun.features.moderation import normalize as normalization
from qunyun.features.stats.models import DailyStats
from qunyun.pipeline.models import ActionRecord, FeatureFailure
from tests import factories as f
from tests.pipeline import fakes
from tests.pipeline.conftest import RuntimeFactory


async def test_actions_go_to_the_outbox_with_their_cause(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(fakes.echo())
    msg = f.message("u1", "echo hello")
    await rt.pipeline.ingest(org, [msg])
    async with rt.sessions() as session:
        [action] = (await session.scalars(select(ActionRecord))).all()
    assert action.type == "message.send" and action.status == "pending"
    assert action.data == {"text": "echo: echo hello", "reply_to": msg["data"]["message_id"]}
    assert action.caused_by == msg["id"] and action.group_pid == "g1"
    assert action.platform == "bridge" and action.feature == "echo"


async def test_stop_propagation_skips_later_features(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(fakes.echo(order=100), fakes.stopper(order=10))
    await rt.pipeline.ingest(org, [f.message("u1", "echo spam"), f.message("u1", "echo ok")])
    async with rt.sessions() as session:
        actions = (await session.scalars(select(ActionRecord).order_by(ActionRecord.seq))).all()
        stats = await session.scalar(select(DailyStats))
    assert [(a.feature, a.type) for a in actions] == [
        ("stopper", "message.delete"), ("stopper", "member.mute"), ("echo", "message.send")]
    assert stats is not None and stats.messages == 1  # the spam never reached stats


async def test_a_broken_feature_is_isolated(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(fakes.broken(order=50), fakes.echo(order=100))
    results = await rt.pipeline.ingest(org, [f.message("u1", "echo still works")])
    assert results[0].status == "accepted"
    async with rt.sessions() as session:
        actions = (await session.scalars(select(ActionRecord))).all()
        failure = await session.scalar(select(FeatureFailure))
        names = (await session.scalars(select(Organization.name))).all()
    assert [a.feature for a in actions] == ["echo"]
    assert failure is not None and failure.feature == "broken"
    assert "RuntimeError: boom" in failure.error and failure.event is not None
    assert "broken" not in names  # its write was rolled back with its savepoint


async def test_disabled_feature_does_not_run(make_runtime: RuntimeFactory) -> None:
    from qunyun.community.settings import do_set_layer

    rt, org = await make_runtime(fakes.echo())
    async with rt.sessions() as session:
        await do_set_layer(session, org_id=org, scope="organization", scope_id=org,
                           feature="echo", values={"enabled": False}, at=f.BASE)
        await session.commit()
    await rt.pipeline.ingest(org, [f.message("u1", "echo nobody")])
    async with rt.sessions() as session:
        assert (await session.scalars(select(ActionRecord))).all() == []


async def test_imported_history_is_never_delivered(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(fakes.echo())
    old = f.message("u1", "echo from the past")
    old["imported"] = True
    await rt.pipeline.ingest(org, [old])
    async with rt.sessions() as session:
        [action] = (await session.scalars(select(ActionRecord))).all()
    assert action.status == "skipped"


async def test_features_find_the_message_a_reply_points_at(make_runtime: RuntimeFactory) -> None:
    rt, org = await make_runtime(fakes.quoter())
    earlier = f.message("u1", "第一条", name="小林")
    await rt.pipeline.ingest(org, [earlier])
    same_batch = f.message("u2", "同一批")
    await rt.pipeline.ingest(org, [
        same_batch,
        f.message("u3", "re", reply_to=earlier["data"]["message_id"]),
        f.message("u3", "re", reply_to=same_batch["data"]["message_id"]),
        f.message("u3", "re", reply_to="m-unknown"),
        f.message("u3", "re", group="g2", reply_to=earlier["data"]["message_id"]),
    ])
    async with rt.sessions() as session:
        texts = (await session.scalars(select(ActionRecord.data).order_by(ActionRecord.seq))).all()
    assert [t["text"] for t in texts] == [
        "quote: 小林: 第一条", "quote: u2: 同一批", "quote: none", "quote: none"]


async def test_answers_in_private_mode(make_runtime: RuntimeFactory) -> None:
    """`[community] answers = "private"`: a reply to the member's message goes to them alone."""
    from qunyun.community.settings import do_set_layer

    rt, org = await make_runtime(fakes.echo())
    async with rt.sessions() as session:
        await do_set_layer(session, org_id=org, scope="organization", scope_id=org,
                           feature="community", values={"answers": "private"}, at=f.BASE)
        await session.commit()
    await rt.pipeline.ingest(org, [f.message("u1", "echo 营业时间？")])
    async with rt.sessions() as session:
        [action] = (await session.scalars(select(ActionRecord))).all()
    assert (action.type, action.member_pid, action.group_pid) == (
        "message.send_private", "u1", "g1")
    assert action.data == {"text": "echo: echo 营业时间？"}


def test_warm_up_loads_what_features_would_load_on_first_use() -> None:
    """The registry's warm-up (run by the server at startup) loads jieba's dictionary for
    the FAQ and the spam classifier, and normalization's tables, and may run again."""
    registry = builtin_registry()
    warmed = {f.name for f in registry if f.warm_up is not None}
    assert {"autoreply", "moderation"} <= warmed
    registry.warm_up()
    registry.warm_up()
    assert jieba.dt.initialized
    assert normalization._tables.cache_info().currsize == 1


async def test_each_feature_sees_its_own_settings_and_no_earlier_requests(
        make_runtime: RuntimeFactory) -> None:
    seen: list[tuple[str, int, int]] = []

    async def record(ctx: FeatureContext) -> None:
        seen.append((ctx.settings.prefix, len(ctx.actions), len(ctx.schedules)))

    class RecorderSettings(fakes.EchoSettings):
        prefix: str = "recorder"

    recorder = Feature(name="recorder", title="Recorder", description="Records its context.",
                       order=300, events=frozenset({E.MESSAGE_POSTED}),
                       settings_model=RecorderSettings, handle=record, on_by_default=True)
    rt, org = await make_runtime(fakes.echo(order=100), fakes.reminder(), recorder)
    await rt.pipeline.ingest(org, [f.message("u1", "echo hi"), f.message("u1", "remind me")])
    assert seen == [("recorder", 0, 0), ("recorder", 0, 0)]
    async with rt.sessions() as session:
        actions = (await session.scalars(select(ActionRecord))).all()
    assert [a.feature for a in actions] == ["echo"]
