"""The auto-replies and FAQ page: rules in effect with their layer, the FAQ with hit counts,
adding, editing and disabling entries (CONFIGURE, CSRF, audit), unanswered questions with
"answer this", and the "try a question" box."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.audit import AuditEntry
from qunyun.community.staff_service import cli_principal
from qunyun.core.events import parse_event
from qunyun.features.autoreply.models import FaqEntry, UnansweredQuestion
from qunyun.features.autoreply.service import check_faq_input, do_create_entry
from qunyun.pipeline.playbook import do_set_layer_values
from tests.factories import message
from tests.web.pages.conftest import Shop, csrf_of, signed_in_client

PAGE = "/engagement/autoreply"


async def configure(runtime: Runtime, shop: Shop, scope: str, scope_id: int,
                    **values: Any) -> None:
    async with runtime.sessions() as session:
        await do_set_layer_values(session, runtime.registry, org_id=shop.org_id, scope=scope,
                                  scope_id=scope_id, section="autoreply",
                                  values={"enabled": True, **values}, unset=(),
                                  at=runtime.clock.now())
        await session.commit()


async def add_entry(runtime: Runtime, shop: Shop, question: str, answer: str) -> int:
    async with runtime.sessions() as session:
        entry = await do_create_entry(
            session, principal=cli_principal(shop.org_id), community_id=shop.community_id,
            data=check_faq_input(question=question, alternatives=[], answer=answer),
            at=runtime.clock.now())
        await session.commit()
        return entry.id


async def faq_rows(runtime: Runtime) -> list[FaqEntry]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(FaqEntry).order_by(FaqEntry.id)))


async def audit_actions(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.target_type.in_(["faq", "faq_question"])).order_by(AuditEntry.id)))


async def test_rules_faq_and_try(owner: httpx.AsyncClient, runtime: Runtime, shop: Shop) -> None:
    await configure(runtime, shop, "community", shop.community_id,
                    rules=[{"keywords": ["营业时间"], "reply": "每天 10 点开门"}])
    await configure(runtime, shop, "group", shop.beijing,
                    rules=[{"keywords": ["地址"], "reply": "北京店在王府井", "priority": 3,
                            "reply_in": "private", "name": "北京地址"}])
    await add_entry(runtime, shop, "怎么退货", "七天无理由退货")
    await runtime.pipeline.process(shop.org_id, [parse_event(e) for e in (
        message("s1", "怎么退货？", group="sh1"), message("s2", "停车场在哪？", group="sh1"),
        message("s3", "停车场在哪里？", group="sh2"))])
    html = (await owner.get(f"{PAGE}?community={shop.community_id}&group={shop.shanghai}")).text
    assert "营业时间" in html and "每天 10 点开门" in html and "北京店在王府井" not in html
    assert 'data-source="community"' in html  # where the rules come from
    faq = html[html.index('id="faq"'):html.index('id="unanswered"')]
    assert "七天无理由退货" in faq and 'class="num">1</td>' in faq  # one hit
    unanswered = html[html.index('id="unanswered"'):]
    assert unanswered.count("停车场在哪") == 1 and 'class="num">2</td>' in unanswered
    beijing = (await owner.get(f"{PAGE}?community={shop.community_id}&group={shop.beijing}")).text
    assert "北京地址" in beijing and "北京店在王府井" in beijing and "营业时间" not in beijing
    assert 'data-source="group"' in beijing
    tried = (await owner.get(f"{PAGE}?community={shop.community_id}&group={shop.shanghai}"
                             "&q=我想退货怎么办？")).text
    assert "七天无理由退货" in tried and "1.00" in tried
    by_rule = (await owner.get(f"{PAGE}?group={shop.shanghai}&q=营业时间")).text
    assert "每天 10 点开门" in by_rule


async def test_add_edit_disable_through_the_page(owner: httpx.AsyncClient, runtime: Runtime,
                                                 shop: Shop) -> None:
    await configure(runtime, shop, "community", shop.community_id)
    page = (await owner.get(PAGE)).text
    token = csrf_of(page)
    where = {"csrf_token": token, "community": str(shop.community_id),
             "group": str(shop.shanghai)}
    bad = await owner.post(f"{PAGE}/faq", data={**where, "question": " ", "answer": "x"})
    assert bad.status_code == 422
    assert 'id="err-question"' in bad.text and 'id="err-answer"' not in bad.text
    assert 'value="x"' not in bad.text and ">x</textarea>" in bad.text  # what was typed stays
    assert await faq_rows(runtime) == []
    added = await owner.post(f"{PAGE}/faq", data={
        **where, "question": "会员怎么办理", "alternatives": "如何成为会员\n\n怎么入会",
        "answer": "到店扫码即可"})
    assert added.status_code == 303 and "saved=faq" in added.headers["location"]
    [entry] = await faq_rows(runtime)
    assert entry.alternatives == ["如何成为会员", "怎么入会"]
    assert entry.created_by == "staff:hq-owner"
    edit = (await owner.get(f"{PAGE}?community={shop.community_id}&edit={entry.id}")).text
    assert f'name="entry_id" value="{entry.id}"' in edit and "到店扫码即可</textarea>" in edit
    await owner.post(f"{PAGE}/faq", data={**where, "entry_id": str(entry.id),
                                          "question": "会员怎么办理", "answer": "小程序里办理"})
    await owner.post(f"{PAGE}/faq/{entry.id}/disable", data=where)
    [entry] = await faq_rows(runtime)
    assert (entry.answer, entry.enabled) == ("小程序里办理", False)
    assert await audit_actions(runtime) == ["faq.create", "faq.update", "faq.disable"]
    await runtime.pipeline.process(shop.org_id, [parse_event(
        message("s1", "如何成为会员？", group="sh1"))])
    async with runtime.sessions() as session:
        assert (await session.scalar(select(UnansweredQuestion.text))) == "如何成为会员？"


async def test_answer_this_prefills_and_resolves(owner: httpx.AsyncClient, runtime: Runtime,
                                                 shop: Shop) -> None:
    await configure(runtime, shop, "community", shop.community_id)
    await runtime.pipeline.process(shop.org_id, [parse_event(
        message("s1", "周末有活动吗？", group="sh1"))])
    async with runtime.sessions() as session:
        question = await session.scalar(select(UnansweredQuestion))
    assert question is not None
    page = (await owner.get(f"{PAGE}?community={shop.community_id}&answer={question.id}")).text
    assert 'value="周末有活动吗？"' in page
    assert f'name="for_question" value="{question.id}"' in page
    await owner.post(f"{PAGE}/faq", data={
        "csrf_token": csrf_of(page), "community": str(shop.community_id),
        "for_question": str(question.id), "question": "周末有活动吗", "answer": "每周六有亲子课"})
    after = (await owner.get(PAGE)).text
    assert "每周六有亲子课" in after and 'id="unanswered-' not in after
    await runtime.pipeline.process(shop.org_id, [parse_event(
        message("s2", "周末有什么活动吗", group="sh1", minutes=1))])
    async with runtime.sessions() as session:
        [action] = (await session.scalars(select(FaqEntry.hits))).all()
    assert action == 1


async def test_staff_without_configure_may_look_but_not_change(
        guide: httpx.AsyncClient, runtime: Runtime, shop: Shop) -> None:
    entry = await add_entry(runtime, shop, "怎么退货", "七天无理由退货")
    page = (await guide.get(PAGE)).text
    assert "七天无理由退货" in page and f"{PAGE}/faq/{entry}/disable" not in page
    assert 'action="/engagement/autoreply/faq"' not in page
    token = csrf_of(page)
    where = {"csrf_token": token, "community": str(shop.community_id)}
    refused = [await guide.post(f"{PAGE}/faq", data={**where, "question": "q", "answer": "a"}),
               await guide.post(f"{PAGE}/faq/{entry}/disable", data=where)]
    assert [r.status_code for r in refused] == [403, 403]
    async with await signed_in_client(runtime, shop.org_id, "looker", "viewer") as viewer:
        token = csrf_of((await viewer.get(PAGE)).text)
        response = await viewer.post(f"{PAGE}/faq", data={**where, "csrf_token": token,
                                                          "question": "q", "answer": "a"})
        assert response.status_code == 403
    [row] = await faq_rows(runtime)
    assert row.enabled and await audit_actions(runtime) == ["faq.create"]


async def test_changes_need_the_csrf_token(owner: httpx.AsyncClient, runtime: Runtime,
                                           shop: Shop) -> None:
    response = await owner.post(f"{PAGE}/faq", data={"community": str(shop.community_id),
                                                     "question": "q", "answer": "a"})
    assert response.status_code == 403
    assert await faq_rows(runtime) == []
