"""Capabilities: an action the platform cannot perform becomes a staff task, never a drop."""

from __future__ import annotations

from sqlalchemy import select, update

from qunyun.community.models import Membership
from qunyun.core.actions import SEND_MESSAGE, Action
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits
from qunyun.pipeline.models import ActionRecord, StaffTask
from tests import factories as f
from tests.pipeline import fakes
from tests.pipeline.conftest import RuntimeFactory


class SendOnlyPlatform:
    """A platform like WeCom's customer groups: it can post but not delete, mute or kick."""

    name = "sendonly"
    capabilities = frozenset({SEND_MESSAGE})
    rate_limits = RateLimits(RateLimit(100, 100), RateLimit(100, 100))

    def __init__(self) -> None:
        self.sent: list[Action] = []

    async def deliver(self, action: Action) -> DeliveryResult:
        self.sent.append(action)
        return DeliveryResult("done")


async def test_unsupported_actions_become_staff_tasks(make_runtime: RuntimeFactory) -> None:
    platform = SendOnlyPlatform()
    rt, org = await make_runtime(fakes.stopper(), fakes.echo(),
                                 platforms={"sendonly": platform})
    await rt.pipeline.ingest(org, [f.joined("boss", platform="sendonly"),
                                   f.joined("u1", platform="sendonly")])
    async with rt.sessions() as session:
        await session.execute(update(Membership).where(Membership.id == 1)
                              .values(role="assistant"))
        await session.commit()
    await rt.pipeline.ingest(org, [f.message("u1", "buy spam now", platform="sendonly"),
                                   f.message("u1", "echo hi", platform="sendonly")])
    await rt.delivery.run_once()

    async with rt.sessions() as session:
        actions = (await session.scalars(select(ActionRecord).order_by(ActionRecord.seq))).all()
        tasks = (await session.scalars(select(StaffTask).order_by(StaffTask.id))).all()
    assert [(a.type, a.status) for a in actions] == [
        ("message.delete", "task"), ("member.mute", "task"), ("message.send", "done")]
    assert [t.kind for t in tasks] == ["message.delete", "member.mute"]
    assert tasks[1].content == "禁言成员 u1 600 秒。"
    assert tasks[0].assignee_role == "assistant" and tasks[0].status == "open"
    assert [a.type for a in platform.sent] == ["message.send"]


async def test_bridge_may_answer_unsupported(make_runtime: RuntimeFactory) -> None:
    from qunyun.pipeline.delivery import acknowledge

    rt, org = await make_runtime(fakes.echo())
    await rt.pipeline.ingest(org, [f.message("u1", "echo x")])
    await rt.delivery.run_once()
    async with rt.sessions() as session:
        action = await session.scalar(select(ActionRecord))
        assert action is not None and action.status == "dispatched"
        await acknowledge(session, org_id=org, action_id=action.id, result="unsupported",
                          reason="no such API", now=f.BASE)
        await session.commit()
        task = await session.scalar(select(StaffTask))
    assert task is not None and task.reason == "no such API"
    assert task.content.startswith("请在群内发送以下消息：")
