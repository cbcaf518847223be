"""The entry gate pages: the approval queue (approve / reject with a note, audited, carried to
the chat by a job) and the invite codes page (create, revoke, who joined)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.audit import AuditEntry
from qunyun.community.settings import do_set_layer
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.events import parse_event
from qunyun.core.features import FeatureRegistry
from qunyun.features.gate.models import InviteCode, JoinRequest
from qunyun.features.gate.plugin import FEATURE as GATE
from qunyun.features.stats.plugin import FEATURE as STATS
from qunyun.pipeline.models import ActionRecord
from tests.factories import event
from tests.web.pages.conftest import Shop, csrf_of, guide, owner, shop

__all__ = ["guide", "owner", "shop"]
QUEUE = "/moderation/gate_queue"
CODES = "/moderation/gate_codes"


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False,
                             registry=FeatureRegistry([GATE, STATS]))
    yield rt
    await rt.close()


async def questionnaire(runtime: Runtime, shop: Shop) -> None:
    async with runtime.sessions() as session:
        await do_set_layer(session, org_id=shop.org_id, scope="organization",
                           scope_id=shop.org_id, feature="gate",
                           values={"enabled": True, "mode": "questionnaire",
                                   "questions": ["为什么加入？"]},
                           at=runtime.clock.now())
        await session.commit()


async def apply(runtime: Runtime, shop: Shop, member: str, group: str, answer: str) -> None:
    await runtime.pipeline.process(shop.org_id, [parse_event(event(
        "member.join_requested", member=member, group=group, request_id=f"r-{member}",
        name=f"申请人{member}", answers={"为什么加入？": answer}))])


async def gate_actions(runtime: Runtime) -> list[tuple[str, str | None]]:
    async with runtime.sessions() as session:
        rows = await session.scalars(select(ActionRecord).where(ActionRecord.feature == "gate")
                                     .order_by(ActionRecord.seq))
        return [(r.type, r.member_pid) for r in rows]


async def test_staff_approve_and_reject_from_the_queue(owner: httpx.AsyncClient,
                                                       guide: httpx.AsyncClient,
                                                       runtime: Runtime, shop: Shop) -> None:
    await questionnaire(runtime, shop)
    await apply(runtime, shop, "x1", "sh1", "想学摄影")
    await apply(runtime, shop, "x2", "bj1", "随便看看")
    html = (await owner.get(QUEUE)).text
    assert "想学摄影" in html and "随便看看" in html and "上海一店会员群" in html
    assert "随便看看" not in (await guide.get(QUEUE)).text  # outside the guide's scope
    async with runtime.sessions() as session:
        first, second = await session.scalars(select(JoinRequest).order_by(JoinRequest.id))
    csrf = csrf_of(html)
    response = await owner.post(f"{QUEUE}/{first.id}/decide",
                                data={"csrf_token": csrf, "status": "approved", "note": "欢迎"})
    assert response.status_code == 303
    refused = await guide.post(f"{QUEUE}/{second.id}/decide", data={
        "csrf_token": csrf_of((await guide.get(QUEUE)).text), "status": "rejected"})
    assert refused.status_code == 403
    await owner.post(f"{QUEUE}/{second.id}/decide",
                     data={"csrf_token": csrf, "status": "rejected", "note": "名额已满"})
    again = await owner.post(f"{QUEUE}/{second.id}/decide",
                             data={"csrf_token": csrf, "status": "approved"})
    assert again.status_code == 409
    bad = await owner.post(f"{QUEUE}/{first.id}/decide",
                           data={"csrf_token": csrf, "status": "maybe"})
    assert bad.status_code == 422
    await runtime.pipeline.tick(runtime.clock.now())
    assert sorted(a for a in await gate_actions(runtime) if a[0] != "message.send_private") == [
        ("join.approve", "x1"), ("join.reject", "x2")]
    async with runtime.sessions() as session:
        decided = list(await session.scalars(select(JoinRequest).order_by(JoinRequest.id)))
        audits = list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("gate.%")).order_by(AuditEntry.id)))
    assert [(r.status, r.decided_by, r.reason) for r in decided] == [
        ("approved", "staff:hq-owner", "欢迎"), ("rejected", "staff:hq-owner", "名额已满")]
    assert audits == ["gate.approved", "gate.rejected"]
    assert "staff:hq-owner" in (await owner.get(QUEUE + "?status=all")).text


async def test_invite_codes_are_created_limited_and_revoked(owner: httpx.AsyncClient,
                                                            runtime: Runtime,
                                                            shop: Shop) -> None:
    page = (await owner.get(CODES)).text
    csrf = csrf_of(page)
    bad = await owner.post(f"{CODES}/create", data={
        "csrf_token": csrf, "group": str(shop.shanghai), "code": "x", "max_uses": "0",
        "owner": "nobody"})
    assert bad.status_code == 422
    assert "aria-invalid" in bad.text or "form-error" in bad.text or "err-" in bad.text
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InviteCode)) == 0
    made = await owner.post(f"{CODES}/create", data={
        "csrf_token": csrf, "group": str(shop.shanghai), "code": "vip-2026", "max_uses": "1",
        "days": "7", "owner": "s0", "note": "店长推荐"})
    assert made.status_code == 303
    detail = (await owner.get(made.headers["location"])).text
    assert "VIP-2026" in detail and "上海会员0" in detail
    async with runtime.sessions() as session:
        await do_set_layer(session, org_id=shop.org_id, scope="organization",
                           scope_id=shop.org_id, feature="gate",
                           values={"enabled": True, "mode": "code"},
                           at=runtime.clock.now())
        await session.commit()
    await runtime.pipeline.process(shop.org_id, [parse_event(event(
        "member.join_requested", member="n1", group="sh1", request_id="q1", name="新人甲",
        code="vip-2026"))])
    assert "新人甲" in (await owner.get(made.headers["location"])).text
    listing = (await owner.get(CODES)).text
    assert "VIP-2026" in listing and "1 / 1" in listing
    code_id = made.headers["location"].rsplit("/", 1)[1]
    await owner.post(f"{CODES}/{code_id}/revoke", data={"csrf_token": csrf})
    async with runtime.sessions() as session:
        revoked = await session.scalar(select(InviteCode.revoked_at))
        audits = list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("gate.code.%")).order_by(AuditEntry.id)))
    assert revoked is not None and audits == ["gate.code.create", "gate.code.revoke"]
