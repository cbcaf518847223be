"""Entry gates in the playground: a person applies to join with the questionnaire's answers; an
approval (automatic, or by staff in the queue) makes them join, as a platform would, with their
member number; a rejection leaves them outside."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Membership, PlatformAccount
from qunyun.community.settings import do_set_layer
from qunyun.features.gate.models import JoinRequest
from tests.web.playground.conftest import Place, csrf_of, owner, place, runtime

__all__ = ["owner", "place", "runtime"]
QUESTION = "你喜欢拍什么？"


async def questionnaire(runtime: Runtime, place: Place) -> None:
    async with runtime.sessions() as session:
        await do_set_layer(session, org_id=place.org_id, scope="organization",
                           scope_id=place.org_id, feature="gate", at=runtime.clock.now(),
                           values={"enabled": True, "mode": "questionnaire", "numbering": True,
                                   "questions": [QUESTION],
                                   "rules": [{"question": QUESTION, "keywords": ["风景", "人像"]}]})
        await session.commit()


async def apply(client: httpx.AsyncClient, group: int, name: str, answer: str) -> None:
    page = await client.get(f"/playground/{group}")
    assert QUESTION in page.text
    response = await client.post(f"/playground/{group}/apply", data={
        "csrf_token": csrf_of(page.text), "name": name, "answer-0": answer})
    assert response.status_code == 303, response.text


async def inside(runtime: Runtime) -> dict[str, int | None]:
    """Open memberships of the playground: display name → member number."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(PlatformAccount.display_name, Membership.member_no)
            .join(Membership, Membership.person_id == PlatformAccount.person_id)
            .where(Membership.status == "active", PlatformAccount.platform == "playground"))
        return {name: number for name, number in rows}


async def test_apply_to_join_with_answers(owner: httpx.AsyncClient, runtime: Runtime,
                                          place: Place) -> None:
    await questionnaire(runtime, place)
    await apply(owner, place.shanghai, "小林", "我喜欢拍风景")
    await apply(owner, place.shanghai, "小周", "随便拍拍")
    await runtime.delivery.run_once()  # join.approve delivered: 小林 enters
    assert await inside(runtime) == {"小林": 1}
    page = (await owner.get(f"/playground/{place.shanghai}")).text
    assert "小林" in page

    queue = (await owner.get("/moderation/gate_queue")).text
    assert "随便拍拍" in queue
    async with runtime.sessions() as session:
        pending = await session.scalar(select(JoinRequest.id).where(
            JoinRequest.status == "pending"))
    await owner.post(f"/moderation/gate_queue/{pending}/decide", data={
        "csrf_token": csrf_of(queue), "status": "approved", "note": ""})
    await runtime.pipeline.tick(runtime.clock.now())
    await runtime.delivery.run_once()
    assert await inside(runtime) == {"小林": 1, "小周": 2}


async def test_a_rejected_applicant_stays_outside(owner: httpx.AsyncClient, runtime: Runtime,
                                                  place: Place) -> None:
    async with runtime.sessions() as session:
        await do_set_layer(session, org_id=place.org_id, scope="organization",
                           scope_id=place.org_id, feature="gate", at=runtime.clock.now(),
                           values={"enabled": True, "mode": "questionnaire",
                                   "questions": [QUESTION],
                                   "on_rule_fail": "reject",
                                   "rules": [{"question": QUESTION, "keywords": ["风景"]}]})
        await session.commit()
    await apply(owner, place.shanghai, "小吴", "不知道")
    await runtime.delivery.run_once()
    assert await inside(runtime) == {}
    async with runtime.sessions() as session:
        [request] = await session.scalars(select(JoinRequest))
    assert request.status == "rejected"
