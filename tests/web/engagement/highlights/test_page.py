"""The highlights page: recent messages to mark, the group's highlights, the weekly digest and
its downloads; ACT, CSRF and audit for changes; a guide sees and acts on her groups only."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Scope
from qunyun.community.audit import AuditEntry
from qunyun.features.highlights.models import Highlight
from qunyun.pipeline.models import ActionRecord, EventRecord, ScheduledJob
from qunyun.pipeline.playbook.apply import do_set_layer_values
from tests.web.pages.conftest import Shop, csrf_of, signed_in_client

PAGE = "/engagement/highlights"


async def message_ref(runtime: Runtime, group_id: int, text: str) -> str:
    async with runtime.sessions() as session:
        for ref, body in await session.execute(
                select(EventRecord.message_ref, EventRecord.body)
                .where(EventRecord.group_id == group_id, EventRecord.message_ref.is_not(None))):
            if text in body:
                return str(ref)
    raise AssertionError(f"no message {text!r}")


async def stored(runtime: Runtime) -> list[Highlight]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(Highlight).order_by(Highlight.id)))


async def turn_on(runtime: Runtime, shop: Shop) -> None:
    async with runtime.write_sessions() as session:
        await do_set_layer_values(session, runtime.registry, org_id=shop.org_id,
                                  scope="organization", scope_id=shop.org_id,
                                  section="highlights", values={"enabled": True},
                                  at=runtime.clock.now())
        await session.commit()


async def test_mark_from_the_page_then_unmark(owner: httpx.AsyncClient, runtime: Runtime,
                                              shop: Shop) -> None:
    await turn_on(runtime, shop)
    page = (await owner.get(f"{PAGE}?group={shop.shanghai}")).text
    assert "今天有活动吗" in page and "大家好 3" in page and "北京见" not in page
    ref = await message_ref(runtime, shop.shanghai, "今天有活动吗")
    token = csrf_of(page)

    done = await owner.post(f"{PAGE}/{shop.shanghai}/mark",
                            data={"csrf_token": token, "message_id": ref})
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"{PAGE}?group={shop.shanghai}")
    again = await owner.post(f"{PAGE}/{shop.shanghai}/mark",
                             data={"csrf_token": token, "message_id": ref})
    assert again.status_code == 303
    [row] = await stored(runtime)
    assert (row.text, row.author_name, row.marked_by) == ("今天有活动吗", "上海会员0",
                                                          "staff:hq-owner")
    async with runtime.sessions() as session:
        [job] = (await session.scalars(select(ScheduledJob))).all()
    assert job.key.startswith(f"digest:{shop.shanghai}:")

    page = (await owner.get(f"{PAGE}?group={shop.shanghai}")).text
    assert page.count('badge badge-active') == 2  # in the highlights and among the messages
    assert "上海会员0" in page.split('id="digest"')[1].split('id="highlights"')[0]

    gone = await owner.post(f"{PAGE}/{shop.shanghai}/unmark",
                            data={"csrf_token": token, "message_id": ref})
    assert gone.status_code == 303
    [row] = await stored(runtime)
    assert row.unmarked_at is not None and row.unmarked_by == "staff:hq-owner"
    async with runtime.sessions() as session:
        audit = (await session.scalars(select(AuditEntry).where(
            AuditEntry.target_type == "highlight").order_by(AuditEntry.id))).all()
    assert [(a.action, a.target_id) for a in audit] == [
        ("highlight.mark", str(row.id)), ("highlight.unmark", str(row.id))]


async def test_the_digest_job_posts_what_the_page_shows(owner: httpx.AsyncClient,
                                                       runtime: Runtime, shop: Shop) -> None:
    await turn_on(runtime, shop)
    token = csrf_of((await owner.get(PAGE)).text)
    ref = await message_ref(runtime, shop.shanghai, "今天有活动吗")
    await owner.post(f"{PAGE}/{shop.shanghai}/mark", data={"csrf_token": token,
                                                           "message_id": ref})
    async with runtime.sessions() as session:
        job = await session.scalar(select(ScheduledJob))
    assert job is not None
    assert await runtime.pipeline.tick(job.due_at + timedelta(minutes=1)) == 1
    async with runtime.sessions() as session:
        [post] = (await session.scalars(select(ActionRecord).where(
            ActionRecord.feature == "highlights"))).all()
    assert "今天有活动吗" in post.data["text"] and post.group_pid == "sh1"


async def test_downloads(owner: httpx.AsyncClient, runtime: Runtime, shop: Shop) -> None:
    token = csrf_of((await owner.get(PAGE)).text)
    ref = await message_ref(runtime, shop.shanghai, "今天有活动吗")
    await owner.post(f"{PAGE}/{shop.shanghai}/mark", data={"csrf_token": token,
                                                           "message_id": ref})
    week = "2026-W47"
    markdown = await owner.get(f"{PAGE}/{shop.shanghai}/export?week={week}&format=md")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.headers["content-disposition"] == (
        f'attachment; filename="highlights-{shop.shanghai}-{week}.md"')
    assert markdown.text.startswith("# ") and "> 今天有活动吗" in markdown.text
    html = await owner.get(f"{PAGE}/{shop.shanghai}/export?week={week}&format=html")
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text.startswith("<!doctype html>") and "今天有活动吗" in html.text
    assert "<link" not in html.text and "<script" not in html.text  # standalone
    earlier = await owner.get(f"{PAGE}/{shop.shanghai}/export?week=2026-W40&format=md")
    assert "今天有活动吗" not in earlier.text
    bad = await owner.get(f"{PAGE}/{shop.shanghai}/export?week=W47&format=md")
    assert bad.status_code == 422 and "week" in bad.text
    assert (await owner.get(f"{PAGE}/{shop.shanghai}/export?format=pdf")).status_code == 422


async def test_a_guide_sees_and_marks_only_her_groups(guide: httpx.AsyncClient,
                                                     runtime: Runtime, shop: Shop) -> None:
    page = (await guide.get(PAGE)).text
    assert "上海一店会员群" in page and "上海快闪群" in page
    assert "北京会员群" not in page and "训练营" not in page
    assert (await guide.get(f"{PAGE}?group={shop.beijing}")).status_code == 403
    assert (await guide.get(f"{PAGE}/{shop.beijing}/export?format=md")).status_code == 403
    token = csrf_of(page)
    ref = await message_ref(runtime, shop.beijing, "北京见")
    refused = await guide.post(f"{PAGE}/{shop.beijing}/mark",
                               data={"csrf_token": token, "message_id": ref})
    assert refused.status_code == 403
    mine = await message_ref(runtime, shop.shanghai, "今天有活动吗")
    no_csrf = await guide.post(f"{PAGE}/{shop.shanghai}/mark", data={"message_id": mine})
    assert no_csrf.status_code == 403
    # A message of another group is not found in hers.
    wrong = await guide.post(f"{PAGE}/{shop.shanghai}/mark",
                             data={"csrf_token": token, "message_id": ref})
    assert wrong.status_code == 422 and "message_id" in wrong.text
    assert await stored(runtime) == []
    ok = await guide.post(f"{PAGE}/{shop.shanghai}/mark",
                          data={"csrf_token": token, "message_id": mine})
    assert ok.status_code == 303 and len(await stored(runtime)) == 1


async def test_a_viewer_reads_but_cannot_mark(runtime: Runtime, shop: Shop) -> None:
    async with await signed_in_client(runtime, shop.org_id, "watcher", "viewer",
                                      Scope()) as viewer:
        page = (await viewer.get(f"{PAGE}?group={shop.shanghai}")).text
        assert "今天有活动吗" in page and f"{PAGE}/{shop.shanghai}/mark" not in page
        ref = await message_ref(runtime, shop.shanghai, "今天有活动吗")
        refused = await viewer.post(f"{PAGE}/{shop.shanghai}/mark",
                                    data={"csrf_token": csrf_of(page), "message_id": ref})
    assert refused.status_code == 403 and await stored(runtime) == []


async def test_the_page_says_when_the_feature_is_off(owner: httpx.AsyncClient,
                                                    shop: Shop) -> None:
    page = (await owner.get(f"{PAGE}?group={shop.camp}")).text
    assert f'href="/groups/{shop.camp}#settings-highlights"' in page
    assert (await owner.get("/engagement")).text.count(f'href="{PAGE}"') == 1
