"""The FAQ: paraphrased questions answered, "did you mean" just under the threshold, unanswered
questions recorded with their repeats, hit counts, the index following KB edits."""

from __future__ import annotations

from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.audit import AuditEntry
from qunyun.community.staff_service import cli_principal
from qunyun.features.autoreply.faq_search import FaqIndex, Phrasing, is_question, query_terms
from qunyun.features.autoreply.models import UnansweredQuestion
from qunyun.features.autoreply.service import (
    check_faq_input,
    do_set_entry_enabled,
    do_update_entry,
    list_unanswered,
)
from tests import factories as f
from tests.conftest import START
from tests.features.autoreply.conftest import (
    add_faq,
    community_of,
    configure,
    entries,
    rule,
    sent,
)

RETURNS = "七天内凭小票可无理由退货，到门店服务台办理。"
HOURS = "门店每天 10:00–22:00 营业。"


async def seed(rt: Runtime, org: int) -> tuple[int, int]:
    returns = await add_faq(rt, org, "怎么退货", RETURNS, ("退货流程是什么", "买错了可以退吗"))
    hours = await add_faq(rt, org, "门店营业时间是几点", HOURS, ("几点开门", "几点关门"))
    await add_faq(rt, org, "会员积分怎么兑换礼品", "在小程序「积分商城」兑换。", ("积分能换什么",))
    await add_faq(rt, org, "门店在哪里", "上海市南京路 1 号。", ("店铺地址",))
    return returns, hours


async def unanswered(rt: Runtime) -> list[tuple[str, int]]:
    async with rt.sessions() as session:
        rows = await list_unanswered(session, community_id=await community_of(rt, org=1))
    return [(q.text, q.count) for q in rows]


async def test_a_paraphrased_question_is_answered(rt: Runtime, org: int) -> None:
    returns, hours = await seed(rt, org)
    await configure(rt, org)
    await rt.pipeline.ingest(org, [f.message("u1", "我想退货怎么办？"),
                                   f.message("u2", "请问你们店几点开门", group="g2"),
                                   f.message("u3", "今天好热")])  # not a question: ignored
    assert [t for _, _, t in await sent(rt)] == [RETURNS, HOURS]
    counted = await entries(rt)
    assert (counted[returns].hits, counted[hours].hits) == (1, 1)
    assert await unanswered(rt) == []


async def test_a_lower_score_asks_did_you_mean(rt: Runtime, org: int) -> None:
    await seed(rt, org)
    await configure(rt, org, faq_threshold=0.9, faq_suggest_threshold=0.3)
    await rt.pipeline.ingest(org, [f.message("u1", "积分怎么查？")])
    [(_, _, text)] = await sent(rt)
    # "你是不是想问“…”？…" once translated; the entry's question, then its answer.
    assert text.index("“会员积分怎么兑换礼品”") < text.index("在小程序「积分商城」兑换。")
    assert all(e.hits == 0 for e in (await entries(rt)).values())  # a guess is not a hit


async def test_nothing_found_is_recorded_as_unanswered(rt: Runtime, org: int) -> None:
    await seed(rt, org)
    await configure(rt, org)
    await rt.pipeline.ingest(org, [f.message("u1", "周末有没有亲子活动？"),
                                   f.message("u2", "周末有亲子活动吗", minutes=1, group="g2")])
    await rt.pipeline.ingest(org, [f.message("u3", "停车场在几楼？", minutes=2),
                                   f.message("u3", "周末 亲子活动 有吗?", minutes=3)])
    assert await sent(rt) == []
    assert await unanswered(rt) == [("周末 亲子活动 有吗?", 3), ("停车场在几楼？", 1)]


async def test_faq_off_and_private_answers(rt: Runtime, org: int) -> None:
    await seed(rt, org)
    await configure(rt, org, faq=False)
    await rt.pipeline.ingest(org, [f.message("u1", "怎么退货？")])
    assert await sent(rt) == []
    await configure(rt, org, faq=True, faq_reply_in="private")
    await rt.pipeline.ingest(org, [f.message("u1", "怎么退货？", minutes=1)])
    assert await sent(rt) == [("message.send_private", "u1", RETURNS)]


async def test_a_rule_answer_does_not_also_ask_the_faq(rt: Runtime, org: int) -> None:
    await seed(rt, org)
    await configure(rt, org, rules=[rule(["退货"], "退货请找客服小美")])
    await rt.pipeline.ingest(org, [f.message("u1", "怎么退货？")])
    assert [t for _, _, t in await sent(rt)] == ["退货请找客服小美"]


async def test_the_index_follows_edits(rt: Runtime, org: int) -> None:
    returns, _ = await seed(rt, org)
    await configure(rt, org)
    await rt.pipeline.ingest(org, [f.message("u1", "怎么退货？")])
    principal = cli_principal(org)
    async with rt.sessions() as session:
        await do_update_entry(session, principal=principal, entry_id=returns, at=START,
                              data=check_faq_input(question="怎么退货", alternatives=[],
                                                   answer="退货已改为线上办理。"))
        await session.commit()
    await rt.pipeline.ingest(org, [f.message("u1", "怎么退货？", minutes=1)])
    async with rt.sessions() as session:
        await do_set_entry_enabled(session, principal=principal, entry_id=returns,
                                   enabled=False, at=START)
        await session.commit()
    await rt.pipeline.ingest(org, [f.message("u1", "怎么退货？", minutes=2)])
    assert [t for _, _, t in await sent(rt)] == [RETURNS, "退货已改为线上办理。"]
    assert await unanswered(rt) == [("怎么退货？", 1)]
    async with rt.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action)
                                         .order_by(AuditEntry.id))).all()
        assert (await session.scalars(select(UnansweredQuestion))).all()
    assert actions[-2:] == ["faq.update", "faq.disable"]
    assert actions.count("faq.create") == 4


def test_questions() -> None:
    assert is_question("几点开门")
    assert is_question("营业到十点?")
    assert is_question("how do I sign in")
    assert is_question("@小助手 积分", bot_names=["小助手"])
    assert is_question("积分", mentions=["bot-1"], bot_names=["bot-1"])
    assert not is_question("大家早上好")
    assert not is_question("？")
    assert not is_question("为什么" * 100)  # too long for a question to the bot


def test_bm25_prefers_the_closer_phrasing() -> None:
    index = FaqIndex.build([Phrasing(1, "会员积分怎么兑换礼品"), Phrasing(2, "积分什么时候过期"),
                            Phrasing(3, "门店在哪里")])
    hit = index.search(query_terms("积分会过期吗"))
    assert hit is not None and hit.entry_id == 2
    assert index.search(query_terms("天气")) is None
    full = index.search(query_terms("门店在哪里"))
    assert full is not None and full.confidence == 1.0
