"""Entry gates through the real pipeline: each mode's decisions, the records they leave, the
actions they ask for, and that an event seen twice has one effect."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from qunyun.community.blacklist import do_blacklist
from qunyun.core.actions import Action
from qunyun.core.clock import ManualClock
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits
from qunyun.features.gate.models import Entitlement
from qunyun.pipeline.models import ScheduledJob, StaffTask
from tests import factories as f
from tests.conftest import START
from tests.features.gate.conftest import Gate, make_gate

APPROVE, REJECT, PRIVATE, KICK = "join.approve", "join.reject", "message.send_private", \
    "member.kick"


async def test_open_gate_approves_and_the_same_request_twice_counts_once(gate: Gate) -> None:
    await gate.configure()
    raw = await gate.ask("u1", "r1")
    await gate.send(raw)  # the same event again: a duplicate
    await gate.ask("u1", "r1", minutes=1)  # the platform asks again about the same request
    assert await gate.actions() == [(APPROVE, "u1"), (PRIVATE, "u1")]
    [request] = await gate.requests()
    assert (request.status, request.rule, request.decided_by) == ("approved", "open", "gate")
    await gate.send(f.joined("u1", via="approval", minutes=2))
    [request] = await gate.requests()
    assert request.joined_at is not None


async def test_blacklisted_applicant_is_rejected_politely(gate: Gate) -> None:
    await gate.configure()
    await gate.send(f.message("u9", "hi", minutes=-10))
    async with gate.rt.sessions() as session:
        await do_blacklist(session, org_id=gate.org, person_id=await gate.person("u9"),
                           reason="spam", added_by="test", at=START - timedelta(minutes=5))
        await session.commit()
    raw = await gate.ask("u9", "r9")
    assert await gate.actions(raw["id"]) == [(REJECT, "u9"), (PRIVATE, "u9")]
    [reason, text] = await gate.texts(raw["id"])
    assert reason == "you cannot join this group" and text.startswith("Sorry,")
    [request] = await gate.requests()
    assert (request.status, request.rule) == ("rejected", "blacklist")


async def test_invite_only_checks_the_inviter(gate: Gate) -> None:
    await gate.configure()
    await gate.send(f.joined("good", minutes=-100), f.joined("kicked", minutes=-100),
                    f.left("kicked", reason="kicked", minutes=-50),
                    f.joined("kicked", minutes=-40))
    await gate.configure(mode="invite")
    nobody = await gate.ask("a", "r1", inviter="stranger")
    none = await gate.ask("b", "r2")
    bad = await gate.ask("c", "r3", inviter="kicked")
    good = await gate.ask("d", "r4", inviter="good")
    assert [t for t, _ in await gate.actions(nobody["id"])] == [REJECT, PRIVATE]
    assert [t for t, _ in await gate.actions(none["id"])] == [REJECT, PRIVATE]
    assert [t for t, _ in await gate.actions(bad["id"])] == [REJECT, PRIVATE]
    assert [t for t, _ in await gate.actions(good["id"])] == [APPROVE, PRIVATE]
    reasons = [r.reason for r in await gate.requests()]
    assert reasons == ["the inviter is not a member of this group",
                       "this group admits members by invitation only",
                       "the inviter is not in good standing", ""]


async def test_invite_only_join_without_request_is_removed_and_not_welcomed(gate: Gate) -> None:
    await gate.configure(mode="invite")
    raw = f.joined("x", minutes=1)
    await gate.send(raw)
    assert await gate.actions(raw["id"]) == [(KICK, "x"), (PRIVATE, "x")]
    [request] = await gate.requests()
    assert (request.source, request.status) == ("join", "rejected")
    async with gate.rt.sessions() as session:  # the welcome never saw the join
        jobs = await session.scalar(select(func.count()).select_from(ScheduledJob)
                                    .where(ScheduledJob.feature == "welcome"))
    assert jobs == 0


async def test_questionnaire_auto_approves_or_queues(gate: Gate) -> None:
    await gate.configure(mode="questionnaire", questions=["你的职业？", "从哪里知道我们？"],
                         rules=[{"question": "你的职业？", "keywords": ["设计", "design"]},
                                {"question": "从哪里知道我们？", "regex": r"^\S{2,}$"}])
    ok = await gate.ask("a", "r1", answers={"你的职业？": "UI 设计师", "从哪里知道我们？": "朋友"})
    vague = await gate.ask("b", "r2", answers={"你的职业？": "学生", "从哪里知道我们？": "朋友"})
    assert [t for t, _ in await gate.actions(ok["id"])] == [APPROVE, PRIVATE]
    assert [t for t, _ in await gate.actions(vague["id"])] == [PRIVATE]
    [text] = await gate.texts(vague["id"])
    assert "review" in text
    first, second = await gate.requests()
    assert first.answers == {"你的职业？": "UI 设计师", "从哪里知道我们？": "朋友"}
    assert (second.status, second.waiting_for, second.decided_by) == ("pending", "review", None)


async def test_questionnaire_can_reject_at_once(gate: Gate) -> None:
    await gate.configure(mode="questionnaire", questions=["口令？"], on_rule_fail="reject",
                         rules=[{"question": "口令？", "keywords": ["芝麻开门"]}])
    raw = await gate.ask("a", "r1", comment="不知道")  # one question: the comment answers it
    assert [t for t, _ in await gate.actions(raw["id"])] == [REJECT, PRIVATE]
    [request] = await gate.requests()
    assert request.answers == {"口令？": "不知道"} and request.status == "rejected"


async def test_a_pending_request_expires_or_is_kept(gate: Gate) -> None:
    await gate.configure(mode="questionnaire", questions=["为什么加入？"], timeout_hours=24)
    await gate.ask("a", "r1", answers={"为什么加入？": "学习"})
    assert await gate.rt.pipeline.tick(START + timedelta(hours=23)) == 0
    assert await gate.rt.pipeline.tick(START + timedelta(hours=24)) == 1
    [request] = await gate.requests()
    assert (request.status, request.decided_by) == ("expired", "timeout")
    assert (await gate.actions())[-2:] == [(REJECT, "a"), (PRIVATE, "a")]
    await gate.configure(mode="questionnaire", questions=["为什么加入？"], on_timeout="keep")
    await gate.ask("b", "r2", answers={"为什么加入？": "学习"}, minutes=1)
    await gate.rt.pipeline.tick(START + timedelta(days=30))
    assert (await gate.requests())[1].status == "pending"


async def test_paid_entry_waits_for_the_payment(gate: Gate) -> None:
    await gate.configure(mode="paid", price_cents=9900, item="年度会员")
    raw = await gate.ask("a", "r1")
    [text] = await gate.texts(raw["id"])
    assert "¥99.00" in text
    small = f.event("payment.completed", group=None, member="a", minutes=1, order_id="o1",
                    amount_cents=100, currency="CNY", item="年度会员")
    paid = f.event("payment.completed", group=None, member="a", minutes=2, order_id="o2",
                   amount_cents=9900, currency="CNY", item="年度会员")
    await gate.send(small)
    assert (await gate.requests())[0].status == "pending"
    await gate.send(paid)
    await gate.send({**paid, "id": "again"})  # the same order reported twice
    assert await gate.actions(paid["id"]) == [(APPROVE, "a"), (PRIVATE, "a")]
    assert await gate.actions("again") == []
    [request] = await gate.requests()
    assert (request.status, request.decided_by) == ("approved", "payment:o2")
    async with gate.rt.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Entitlement)) == 2


async def test_a_payment_before_the_request_lets_it_through(gate: Gate) -> None:
    await gate.configure(mode="paid", price_cents=500, numbering=True)
    await gate.send(f.event("payment.completed", group=None, member="a", minutes=-5,
                            order_id="o1", amount_cents=500, currency="CNY"))
    raw = await gate.ask("a", "r1")
    assert [t for t, _ in await gate.actions(raw["id"])] == [APPROVE, PRIVATE]
    second = await gate.ask("a", "r2", minutes=1)  # the payment was used once
    assert [t for t, _ in await gate.actions(second["id"])] == [PRIVATE]
    await gate.send(f.joined("a", minutes=2))
    assert await gate.numbers() == {"a": 1}


async def test_member_numbers_are_kept_and_never_reused(gate: Gate) -> None:
    await gate.configure(numbering=True)
    await gate.send(f.joined("a"), f.joined("b", minutes=1), f.joined("c", minutes=2))
    assert await gate.numbers() == {"a": 1, "b": 2, "c": 3}
    await gate.send(f.left("b", minutes=3), f.left("c", minutes=4))
    await gate.send(f.joined("d", minutes=5), f.joined("b", minutes=6))
    assert await gate.numbers() == {"a": 1, "d": 4, "b": 2}
    await gate.send(f.joined("c", minutes=7, group="g2"))  # another group of the community
    assert await gate.numbers("g2") == {"c": 3}


async def test_numbers_are_sequential_under_a_burst(gate: Gate) -> None:
    await gate.configure(numbering=True)
    await gate.send(*[f.joined(f"m{i}", group=f"g{i % 3}", minutes=i / 100) for i in range(60)])
    numbers = {**await gate.numbers("g0"), **await gate.numbers("g1"),
               **await gate.numbers("g2")}
    assert sorted(n for n in numbers.values() if n is not None) == list(range(1, 61))
    assert numbers["m0"] == 1 and numbers["m59"] == 60  # in the order of the joins


async def test_concurrent_numbering_gives_distinct_consecutive_numbers(gate: Gate) -> None:
    import asyncio

    from qunyun.features.gate.numbering import do_assign_number

    await gate.send(*[f.message(f"p{i}", "hi") for i in range(8)])
    community = await gate.community()
    persons = [await gate.person(f"p{i}") for i in range(8)]

    async def assign(person_id: int) -> int:
        async with gate.rt.write_sessions() as session:
            number = await do_assign_number(session, community_id=community,
                                            person_id=person_id, at=START)
            await session.commit()
            return number

    got = await asyncio.gather(*(assign(p) for p in persons))
    assert sorted(got) == list(range(1, 9))
    assert await assign(persons[0]) == got[0]


class SendOnlyPlatform:
    """A platform like WeCom's customer groups: it can post but not remove members."""

    name = "sendonly"
    capabilities = frozenset({"message.send"})
    rate_limits = RateLimits(RateLimit(100, 100), RateLimit(100, 100))

    async def deliver(self, action: Action) -> DeliveryResult:
        return DeliveryResult("done")


async def test_a_platform_that_cannot_remove_gets_a_staff_task(database_url: str, tmp_path: Path,
                                                               clock: ManualClock) -> None:
    made = await make_gate(database_url, tmp_path / "data", clock,
                           platforms={"sendonly": SendOnlyPlatform()})
    try:
        await made.configure(mode="code")
        await made.send(f.joined("x", platform="sendonly", code="NOPE1234"))
        async with made.rt.sessions() as session:
            tasks = list(await session.scalars(select(StaffTask).order_by(StaffTask.id)))
        assert [t.kind for t in tasks] == [KICK, PRIVATE]
        [request] = await made.requests()
        assert (request.status, request.rule, request.reason) == (
            "rejected", "code", "the invite code is not valid")
    finally:
        await made.rt.close()


async def test_a_blacklisted_newcomer_is_removed_in_an_open_group(gate: Gate) -> None:
    await gate.configure(numbering=True)
    await gate.send(f.message("bad", "hi", group="g2", minutes=-10))
    async with gate.rt.sessions() as session:
        await do_blacklist(session, org_id=gate.org, person_id=await gate.person("bad"),
                           reason="广告", added_by="test", at=START - timedelta(minutes=5))
        await session.commit()
    raw = f.joined("bad", minutes=1)
    await gate.send(raw, f.joined("ok", minutes=2))
    assert await gate.actions(raw["id"]) == [(KICK, "bad"), (PRIVATE, "bad")]
    assert await gate.numbers() == {"bad": None, "ok": 1}  # the removed one got no number


async def test_a_join_without_request_waits_for_its_payment(gate: Gate) -> None:
    await gate.configure(mode="paid", item="入群券", numbering=True)
    join = f.joined("a", minutes=1)
    await gate.send(join)
    [text] = await gate.texts(join["id"])
    assert "入群券" in text
    assert await gate.numbers() == {"a": None}
    paid = f.event("payment.completed", group=None, member="a", minutes=2, order_id="o9",
                   amount_cents=1, currency="CNY", item="入群券")
    await gate.send(paid)
    assert await gate.actions(paid["id"]) == [(PRIVATE, "a")]  # already inside: only told
    [request] = await gate.requests()
    assert (request.source, request.status, request.joined_at is not None) == (
        "join", "approved", True)
    assert await gate.numbers() == {"a": 1}


async def test_a_backtracking_pattern_sends_the_answer_to_staff(gate: Gate) -> None:
    await gate.configure(mode="questionnaire", questions=["代号？"],
                         rules=[{"question": "代号？", "regex": r"^(a+)+$"}])
    await gate.ask("a", "r1", answers={"代号？": "aaaa"})
    await gate.ask("b", "r2", answers={"代号？": "a" * 60 + "!"}, minutes=1)
    assert [r.status for r in await gate.requests()] == ["approved", "pending"]


async def test_a_member_asks_for_a_personal_invite_link(gate: Gate) -> None:
    await gate.configure()
    raw = f.message("u1", "邀请链接", minutes=1)
    await gate.send(raw)
    assert await gate.actions(raw["id"]) == [("member.invite_link", "u1")]
    [text] = await gate.texts(raw["id"])
    assert "{link}" in text and "invitees" in text
    other = f.message("u1", "邀请链接在哪里", minutes=2)
    await gate.send(other)
    assert await gate.actions(other["id"]) == []
