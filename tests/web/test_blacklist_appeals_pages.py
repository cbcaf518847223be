"""The blacklist and appeals pages: listing, searching, adding with reason and expiry, removing,
sharing, subscribing (CONFIGURE over the whole organization, CSRF, audited; bad input changes
nothing), and the appeals queue where a decision leaves through the pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.audit import AuditEntry
from qunyun.community.blacklist import BlacklistEntry, BlacklistSubscription
from qunyun.community.models import PlatformAccount
from qunyun.community.service import do_create_organization
from qunyun.community.settings import do_set_layer
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.events import parse_event
from qunyun.core.features import FeatureContext, FeatureRegistry, MemberInfo
from qunyun.db.uow import UnitOfWork
from qunyun.features.moderation import appeals
from qunyun.features.moderation.appeal_models import ModerationAppeal
from qunyun.features.moderation.models import ModerationCase
from qunyun.features.moderation.plugin import FEATURE
from qunyun.features.stats.plugin import FEATURE as STATS
from qunyun.pipeline.models import ActionRecord
from tests.factories import event, message
from tests.web.pages.conftest import Shop, csrf_of, guide, owner, shop

__all__ = ["guide", "owner", "shop"]

BLACKLIST = "/moderation/blacklist"
APPEALS = "/moderation/appeals"


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False,
                             registry=FeatureRegistry([FEATURE, STATS]))
    yield rt
    await rt.close()


async def counts(runtime: Runtime) -> list[int]:
    """Blacklist entries, subscriptions and audit entries."""
    async with runtime.sessions() as session:
        return [int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in (BlacklistEntry, BlacklistSubscription, AuditEntry)]


async def test_owner_adds_searches_shares_and_removes(owner: httpx.AsyncClient, runtime: Runtime,
                                                      shop: Shop) -> None:
    page = await owner.get(BLACKLIST)
    assert page.status_code == 200 and 'id="entries"' in page.text and 'id="shared"' in page.text
    token = csrf_of(page.text)
    added = await owner.post(f"{BLACKLIST}/add", data={
        "csrf_token": token, "member": "bridge:s1", "reason": "群里发广告", "days": "7",
        "shared": "1"})
    assert added.status_code == 303
    async with runtime.sessions() as session:
        entry = await session.scalar(select(BlacklistEntry))
        audit = await session.scalar(select(AuditEntry.action).where(
            AuditEntry.target_type == "blacklist"))
    assert entry is not None and entry.shared and entry.added_by == "staff:hq-owner"
    assert entry.expires_at == runtime.clock.now() + timedelta(days=7)
    assert audit == "blacklist.add"
    listed = (await owner.get(BLACKLIST)).text
    assert "群里发广告" in listed and "bridge:s1" in listed and "上海会员1" in listed
    assert "群里发广告" not in (await owner.get(BLACKLIST, params={"q": "刷屏"})).text
    assert "群里发广告" in (await owner.get(BLACKLIST, params={"q": "s1"})).text
    assert (await owner.post(f"{BLACKLIST}/{entry.id}/share",
                             data={"csrf_token": token, "shared": "0"})).status_code == 303
    assert (await owner.post(f"{BLACKLIST}/{entry.id}/remove",
                             data={"csrf_token": token})).status_code == 303
    async with runtime.sessions() as session:
        gone = await session.get(BlacklistEntry, entry.id)
        actions = list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.target_type == "blacklist").order_by(AuditEntry.id)))
    assert gone is not None and not gone.shared and gone.removed_by == "staff:hq-owner"
    assert actions == ["blacklist.add", "blacklist.unshare", "blacklist.remove"]
    assert "群里发广告" not in (await owner.get(BLACKLIST)).text.split('id="entries"')[1]
    assert "群里发广告" in (await owner.get(BLACKLIST, params={"ended": "1"})).text


async def test_bad_input_and_refusals_write_nothing(owner: httpx.AsyncClient,
                                                    guide: httpx.AsyncClient,
                                                    runtime: Runtime, shop: Shop) -> None:
    token = csrf_of((await owner.get(BLACKLIST)).text)
    form = {"csrf_token": token, "member": "bridge:s1", "reason": "广告", "days": ""}
    before = await counts(runtime)
    bad = await owner.post(f"{BLACKLIST}/add", data={**form, "reason": " ", "days": "0",
                                                     "member": "bridge:nobody"})
    assert bad.status_code == 422
    assert all(f'id="err-{name}"' in bad.text for name in ("reason", "days", "member"))
    assert 'value="bridge:nobody"' in bad.text  # the form comes back as typed
    assert (await owner.post(f"{BLACKLIST}/add", data={**form, "csrf_token": ""})).status_code \
        == 403
    guide_page = (await guide.get(BLACKLIST)).text
    assert 'action="/moderation/blacklist/add"' not in guide_page
    guide_token = csrf_of(guide_page)  # the sign-out form carries it
    refused = await guide.post(f"{BLACKLIST}/add", data={**form, "csrf_token": guide_token})
    assert refused.status_code == 403
    unknown = await owner.post(f"{BLACKLIST}/subscribe", data={"csrf_token": token,
                                                               "source": "no-such-org"})
    assert unknown.status_code == 404 and "no-such-org" in unknown.text
    assert await counts(runtime) == before


async def test_subscribing_to_another_brands_shared_list(owner: httpx.AsyncClient,
                                                         runtime: Runtime, shop: Shop) -> None:
    async with runtime.write_sessions() as session:
        await do_create_organization(session, name="友商", slug="partner",
                                     at=runtime.clock.now())
        await session.commit()
    token = csrf_of((await owner.get(BLACKLIST)).text)
    done = await owner.post(f"{BLACKLIST}/subscribe", data={"csrf_token": token,
                                                            "source": "partner"})
    assert done.status_code == 303
    page = (await owner.get(BLACKLIST)).text
    assert "友商" in page and "partner" in page
    async with runtime.sessions() as session:
        subscription = await session.scalar(select(BlacklistSubscription))
    assert subscription is not None
    again = await owner.post(f"{BLACKLIST}/subscribe", data={"csrf_token": token,
                                                             "source": "partner"})
    assert again.status_code == 409
    ended = await owner.post(f"{BLACKLIST}/subscriptions/{subscription.id}/end",
                             data={"csrf_token": token})
    assert ended.status_code == 303
    async with runtime.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.target_type == "blacklist_subscription").order_by(AuditEntry.id)))
    assert actions == ["blacklist.subscribe", "blacklist.unsubscribe"]


# --- appeals ----------------------------------------------------------------------------------

async def appeal_of_a_mute(runtime: Runtime, shop: Shop) -> ModerationAppeal:
    """s1 is muted in 上海一店会员群 for a banned word, then appeals in private."""
    async with runtime.write_sessions() as session:
        await do_set_layer(session, org_id=shop.org_id, scope="organization",
                           scope_id=shop.org_id, feature="moderation", at=runtime.clock.now(),
                           values={"enabled": True, "banned_words": ["代理加盟"],
                                   "ladder": ["mute:600"]})
        await session.commit()
    await runtime.pipeline.process(shop.org_id, [parse_event(
        message("s1", "欢迎代理加盟哦", group="sh1", minutes=1))])
    raw = event("message.private", group=None, member="s1", message_id="p1", kind="text",
                text="申诉 我是在转述别人的话")
    async with runtime.write_sessions() as session:
        person_id = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.platform_user_id == "s1"))
        assert person_id is not None
        ctx = FeatureContext(
            uow=UnitOfWork(session), clock=runtime.clock, now=runtime.clock.now(), group=None,
            member=MemberInfo(person_id, None, "member", "none", None, None, False, 0, False),
            settings=None, event=parse_event(raw))
        await appeals.handle_private(ctx)
        await session.commit()
        appeal: ModerationAppeal | None = await session.scalar(select(ModerationAppeal))
    assert appeal is not None
    return appeal


async def test_the_queue_shows_the_case_and_a_decision_reaches_the_chat(
        owner: httpx.AsyncClient, guide: httpx.AsyncClient, runtime: Runtime,
        shop: Shop) -> None:
    appeal = await appeal_of_a_mute(runtime, shop)
    queue = (await owner.get(APPEALS)).text
    assert f"#{appeal.id}" in queue and "上海会员1" in queue and "上海一店会员群" in queue
    assert "#" in (await guide.get(APPEALS)).text  # 上海店 is in the guide's scope
    detail = (await owner.get(f"{APPEALS}/{appeal.id}")).text
    assert '<mark class="mod-matched">代理加盟</mark>' in detail and "我是在转述别人的话" in detail
    token = csrf_of(detail)
    bad = await owner.post(f"{APPEALS}/{appeal.id}/decide", data={"csrf_token": token,
                                                                 "decision": "maybe"})
    assert bad.status_code == 422 and 'id="err-decision"' in bad.text
    done = await owner.post(f"{APPEALS}/{appeal.id}/decide", data={
        "csrf_token": token, "decision": "upheld", "note": "已解除禁言"})
    assert done.status_code == 303 and done.headers["location"] == \
        f"{APPEALS}/{appeal.id}?decided=1"
    assert await runtime.pipeline.tick() == 1  # the decision's job, due now
    async with runtime.sessions() as session:
        sent = list(await session.execute(
            select(ActionRecord.type, ActionRecord.member_pid, ActionRecord.group_pid,
                   ActionRecord.data).where(ActionRecord.caused_by.not_like("e%"))
            .order_by(ActionRecord.seq)))
        case = await session.get(ModerationCase, appeal.case_id)
    assert [(t, m, g) for t, m, g, _ in sent] == [("member.mute", "s1", "sh1"),
                                                  ("message.send_private", "s1", "sh1")]
    assert sent[0][3] == {"seconds": 0} and "已解除禁言" in sent[1][3]["text"]
    assert case is not None and case.status == "overturned"
    decided = (await owner.get(APPEALS, params={"status": "decided"})).text
    assert f"#{appeal.id}" in decided
    assert 'name="decision"' not in (await owner.get(f"{APPEALS}/{appeal.id}")).text


async def test_the_hub_lists_both_pages(owner: httpx.AsyncClient) -> None:
    hub = (await owner.get("/moderation")).text
    assert f'href="{BLACKLIST}"' in hub and f'href="{APPEALS}"' in hub
