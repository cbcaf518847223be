"""The governance pages of moderation: the hub, the moderation log (match highlighted, filters,
scope, undo through the pipeline, precision per rule) and the rule editor (TOML checked with key
paths, dry run on history before saving, saving the layer; CONFIGURE, CSRF, audited)."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.audit import AuditEntry
from qunyun.community.models import SettingsLayer
from qunyun.community.service import do_create_group
from qunyun.community.settings import do_set_layer
from qunyun.core.actions import MUTE_MEMBER
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.events import parse_event
from qunyun.core.features import FeatureRegistry
from qunyun.features.moderation.models import UNDONE, ModerationCase
from qunyun.features.moderation.plugin import FEATURE
from qunyun.features.stats.plugin import FEATURE as STATS
from qunyun.pipeline.models import ActionRecord, ScheduledJob
from qunyun.web.moderation.rules import to_toml
from tests.factories import message
from tests.web.pages.conftest import Shop, csrf_of, guide, owner, shop

__all__ = ["guide", "owner", "shop"]

CASES = "/moderation/cases"
RULES = "/moderation/rules"


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False,
                             registry=FeatureRegistry([FEATURE, STATS]))
    yield rt
    await rt.close()


async def turn_on(runtime: Runtime, shop: Shop, **values: object) -> None:
    async with runtime.write_sessions() as session:
        await do_set_layer(session, org_id=shop.org_id, scope="organization",
                           scope_id=shop.org_id, feature="moderation",
                           values={"enabled": True, "banned_words": ["代开发票"],
                                   "ladder": ["mute:600"], **values}, at=runtime.clock.now())
        await session.commit()


async def post(runtime: Runtime, shop: Shop, member: str, text: str, group: str,
               minutes: float) -> None:
    await runtime.pipeline.process(shop.org_id, [parse_event(
        message(member, text, group=group, minutes=minutes, name=f"名{member}"))])


async def cases(runtime: Runtime) -> list[ModerationCase]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(ModerationCase).order_by(ModerationCase.id)))


async def test_the_hub_lists_the_pages(owner: httpx.AsyncClient) -> None:
    page = await owner.get("/moderation")
    assert page.status_code == 200
    assert f'href="{CASES}"' in page.text and f'href="{RULES}"' in page.text
    assert 'href="/moderation"' in page.text  # the navigation entry


async def test_the_log_highlights_filters_and_keeps_to_the_scope(
        owner: httpx.AsyncClient, guide: httpx.AsyncClient, runtime: Runtime,
        shop: Shop) -> None:
    await turn_on(runtime, shop)
    await post(runtime, shop, "s1", "专业代开发票，找我", "sh1", 1)
    await post(runtime, shop, "b2", "北京 代开发票", "bj1", 2)
    html = (await owner.get(CASES)).text
    assert "专业<mark>代开发票</mark>，找我" in html and "北京 <mark>代开发票</mark>" in html
    assert "delete+mute:600" in html and "上海会员1" in html
    mine = (await guide.get(CASES)).text.split('id="cases"')[1]
    assert "专业" in mine and "北京" not in mine
    assert "北京" not in (await owner.get(CASES, params={"group": shop.shanghai})).text.split(
        'id="cases"')[1]
    assert "<mark>" not in (await owner.get(CASES, params={"rule": "links"})).text
    assert (await guide.get(CASES, params={"group": shop.beijing})).status_code == 403


async def test_undo_goes_through_the_pipeline_and_counts_against_precision(
        owner: httpx.AsyncClient, guide: httpx.AsyncClient, runtime: Runtime,
        shop: Shop) -> None:
    await turn_on(runtime, shop)
    await post(runtime, shop, "s1", "代开发票", "sh1", 1)
    await post(runtime, shop, "s2", "代开发票 便宜", "sh1", 2)
    await post(runtime, shop, "b2", "代开发票", "bj1", 3)
    first, _, beijing = await cases(runtime)
    token = csrf_of((await owner.get(CASES)).text)
    assert (await owner.post(f"{CASES}/{first.id}/undo", data={})).status_code == 403  # CSRF
    assert (await guide.post(f"{CASES}/{beijing.id}/undo",
                             data={"csrf_token": csrf_of((await guide.get(CASES)).text)})
            ).status_code == 403
    done = await owner.post(f"{CASES}/{first.id}/undo",
                            data={"csrf_token": token, "back": f"{CASES}?rule=banned_words"})
    assert done.status_code == 303 and done.headers["location"].startswith(
        f"{CASES}?rule=banned_words&undone=")
    undone = (await cases(runtime))[0]
    assert undone.status == UNDONE and undone.resolved_by == "staff:hq-owner"
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "moderation.undo")) == 1
        assert await session.scalar(select(func.count()).select_from(ScheduledJob)) == 1
    await runtime.pipeline.tick(runtime.clock.now() + timedelta(seconds=1))
    async with runtime.sessions() as session:
        unmute = (await session.execute(select(ActionRecord.type, ActionRecord.data,
                                               ActionRecord.member_pid)
                                        .where(ActionRecord.feature == "moderation")
                                        .order_by(ActionRecord.seq.desc()).limit(1))).one()
    assert (unmute.type, unmute.data, unmute.member_pid) == (MUTE_MEMBER, {"seconds": 0}, "s1")
    again = await owner.post(f"{CASES}/{first.id}/undo", data={"csrf_token": token})
    assert again.status_code == 409
    precision = (await owner.get(CASES)).text.split('id="precision"')[1].split("</section>")[0]
    assert "67%" in precision  # 3 hits, 1 undone


async def test_the_rule_editor_checks_tries_and_saves(
        owner: httpx.AsyncClient, guide: httpx.AsyncClient, runtime: Runtime,
        shop: Shop) -> None:
    await post(runtime, shop, "s1", "今天 代开发票", "sh1", -10)  # moderation is off: history
    scope = f"group:{shop.shanghai}"
    page = await owner.get(RULES, params={"scope": scope})
    assert page.status_code == 200 and "[features.moderation]" in page.text
    token = csrf_of(page.text)
    bad = await owner.post(f"{RULES}/try", data={
        "csrf_token": token, "scope": scope, "days": "7",
        "source": 'banned_words = ["代开发票"]\nladder = ["warn", "ban"]\n'})
    assert bad.status_code == 422 and "features.moderation.ladder" in bad.text
    broken = await owner.post(f"{RULES}/save", data={
        "csrf_token": token, "scope": scope, "source": "ladder = [", "days": "7"})
    assert broken.status_code == 422
    tried = await owner.post(f"{RULES}/try", data={
        "csrf_token": token, "scope": scope, "days": "7",
        "source": 'banned_words = ["代开发票"]\nladder = ["warn"]\n'})
    assert tried.status_code == 200
    dry = tried.text.split('id="dry-run"')[1]
    assert "今天 <mark>代开发票</mark>" in dry and "delete+warn" in dry
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SettingsLayer).where(
            SettingsLayer.feature == "moderation")) == 0  # trying changes nothing
    community = await owner.post(f"{RULES}/try", data={
        "csrf_token": token, "scope": f"community:{shop.community_id}", "days": "7",
        "source": 'banned_words = ["北京见"]\n'})
    dry = community.text.split('id="dry-run"')[1]  # every group of the community is tried
    assert "今天 <mark>代开发票</mark>" in dry and "<mark>北京见</mark>" in dry
    refused = await guide.post(f"{RULES}/save", data={
        "csrf_token": csrf_of((await guide.get(RULES)).text), "scope": scope,
        "source": "enabled = true\n", "days": "7"})
    assert refused.status_code == 403
    saved = await owner.post(f"{RULES}/save", data={
        "csrf_token": token, "scope": scope, "days": "7",
        "source": 'enabled = true\nbanned_words = ["代开发票"]\n[all_mute]\nenabled = false\n'})
    assert saved.status_code == 303
    async with runtime.sessions() as session:
        layer = await session.scalar(select(SettingsLayer.values).where(
            SettingsLayer.scope == "group", SettingsLayer.scope_id == shop.shanghai,
            SettingsLayer.feature == "moderation"))
        audited = await session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "settings.set"))
    assert layer is not None and layer["banned_words"] == ["代开发票"] and audited == 1
    shown = (await owner.get(saved.headers["location"])).text
    assert "The rules were saved" in shown or "规则已保存" in shown
    await post(runtime, shop, "s2", "代开发票", "sh1", 5)  # now live
    assert [c.rule for c in await cases(runtime)] == ["banned_words"]


def test_a_layer_document_round_trips_through_toml() -> None:
    values = {"enabled": True, "banned_words": ["代开发票", 'a"b'], "ladder": ["warn", "kick"],
              "links": {"enabled": True, "allow": ["example.com"]},
              "word_lists": {"共享 广告": {"category": "ads", "words": ["刷单"]}},
              "regexes": [{"name": "单号", "pattern": "DD\\d{6}"}], "warning_decay_hours": 24,
              "classifier": {"threshold": 0.95}, "exempt_roles": []}
    text = to_toml(values)
    assert tomllib.loads(text)["features"]["moderation"] == values


async def test_in_the_playground_spam_is_deleted_warned_then_muted(
        owner: httpx.AsyncClient, runtime: Runtime, shop: Shop) -> None:
    async with runtime.write_sessions() as session:
        group = await do_create_group(session, org_id=shop.org_id, platform="playground",
                                      platform_id="pg-mod", name="试玩群", at=runtime.clock.now(),
                                      community_id=shop.community_id)
        await session.commit()
    await turn_on(runtime, shop, ladder=["warn", "mute:600"])
    chat = f"/playground/{group.id}"
    added = await owner.post(f"{chat}/members", data={
        "csrf_token": csrf_of((await owner.get(chat)).text), "name": "小广告"})
    member = added.headers["location"].split("?as=")[1]
    for _ in range(2):
        sent = await owner.post(f"{chat}/messages", data={
            "csrf_token": csrf_of((await owner.get(chat)).text), "member": member,
            "text": "代 开 发 票，加微信详聊"})
        assert sent.status_code == 303
    page = (await owner.get(chat)).text
    assert page.count("pg-msg pg-deleted") == 2  # both messages shown as deleted by the bot
    assert page.count("@小广告 ") == 2  # told twice, by name, which rule
    async with runtime.sessions() as session:
        kinds = [k for k in await session.scalars(
            select(ActionRecord.type).where(ActionRecord.group_id == group.id)
            .order_by(ActionRecord.seq))]
    assert kinds == ["message.delete", "message.send", "message.delete", "message.send",
                     MUTE_MEMBER]
