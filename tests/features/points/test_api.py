"""The REST endpoints of points: balance, entries, an idempotent adjustment, and refusals."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime
from qunyun.community.models import ApiToken
from qunyun.community.service import do_create_token
from tests.features.points.conftest import community_of, feed, person_of, post, switch_on


async def token(runtime: Runtime, org_id: int, role: str = "admin") -> dict[str, str]:
    async with runtime.sessions() as session:
        made = await do_create_token(session, org_id=org_id, name=f"{role}-token", kind="api",
                                     at=runtime.clock.now())
        await session.execute(update(ApiToken).where(ApiToken.name == f"{role}-token")
                              .values(role=role))
        await session.commit()
    return {"Authorization": f"Bearer {made}"}


async def test_balance_entries_and_adjust(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id)
    await feed(runtime, org_id, post("u1", "一条认真写的长消息", "m1", 0))
    community_id = await community_of(runtime, org_id)
    person_id = await person_of(runtime, org_id, "u1")
    base = f"/api/v1/communities/{community_id}/points/{person_id}"
    admin, viewer = await token(runtime, org_id), await token(runtime, org_id, "viewer")
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        got = await http.get(base, headers=viewer)
        assert got.status_code == 200 and got.json()["balance"] == 1
        body = {"amount": 9, "note": "活动奖励", "key": "promo-1"}
        assert (await http.post(f"{base}/adjust", json=body, headers=viewer)).status_code == 403
        first = await http.post(f"{base}/adjust", json=body, headers=admin)
        again = await http.post(f"{base}/adjust", json=body, headers=admin)
        assert first.json() == {"recorded": True, "balance": {
            "community_id": community_id, "person_id": person_id, "balance": 10,
            "lifetime_earned": 10}}
        assert again.json()["recorded"] is False and again.json()["balance"]["balance"] == 10
        refused = await http.post(f"{base}/adjust", json={"amount": -50, "note": "x"},
                                  headers=admin)
        assert refused.status_code == 409
        empty = await http.post(f"{base}/adjust", json={"amount": 0, "note": ""}, headers=admin)
        assert empty.status_code == 422
        assert {e["path"] for e in empty.json()["errors"]} == {"amount", "note"}
        entries = (await http.get(f"{base}/entries?limit=1", headers=viewer)).json()
        assert entries["total"] == 2
        assert [(e["reason"], e["amount"], e["actor"]) for e in entries["items"]] == [
            ("adjust", 9, "token:admin-token")]
        missing = await http.get(f"/api/v1/communities/{community_id}/points/99999",
                                 headers=admin)
        assert missing.status_code == 404
