"""Actions for bridges: long poll, acknowledgements, staff tasks for what a platform cannot do."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.pipeline.models import StaffTask
from tests.api.conftest import bearer, make_token, post_events
from tests.factories import joined, message

POLL = "/api/v1/bridge/actions"


async def pings(client: httpx.AsyncClient, headers: dict[str, str], count: int,
                platform: str = "bridge") -> None:
    events = [joined("u1", platform=platform)]
    events += [message("u1", text=f"ping {i}", platform=platform) for i in range(count)]
    assert (await post_events(client, headers, events))["accepted"] == count + 1


async def poll(client: httpx.AsyncClient, headers: dict[str, str], **params: Any
               ) -> dict[str, Any]:
    response = await client.get(POLL, params={"wait": 0, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_round_trip(client: httpx.AsyncClient, runtime: Runtime,
                          bridge_headers: dict[str, str], api_headers: dict[str, str]) -> None:
    await pings(client, bridge_headers, 2)
    assert (await poll(client, bridge_headers))["actions"] == []  # pending, not dispatched yet
    await runtime.delivery.run_once()

    first = await poll(client, bridge_headers)
    done, unsupported = first["actions"]
    assert done["type"] == "message.send" and done["data"]["text"] == "pong"
    assert done["platform"] == "bridge" and done["group"] == "g1" and done["v"] == 1
    assert done["data"]["reply_to"].startswith("m")
    assert (await poll(client, bridge_headers, after=first["cursor"]))["actions"] == []

    ack = await client.post(f"{POLL}/{done['id']}/ack", json={"result": "done"},
                            headers=bridge_headers)
    assert ack.json() == {"id": done["id"], "status": "done"}
    detail = (await client.get(f"/api/v1/actions/{done['id']}", headers=api_headers)).json()
    assert detail["status"] == "done" and detail["finished_at"] is not None
    assert detail["attempts"] == 1

    for _ in range(2):  # acknowledging twice has one effect
        response = await client.post(f"{POLL}/{unsupported['id']}/ack", headers=bridge_headers,
                                     json={"result": "unsupported", "reason": "no API for it"})
        assert response.json()["status"] == "task"
    await client.post(f"{POLL}/{done['id']}/ack", json={"result": "failed"},
                      headers=bridge_headers)

    tasks = (await client.get("/api/v1/tasks", params={"status": "open"},
                              headers=api_headers)).json()
    assert tasks["total"] == 1
    assert tasks["items"][0]["kind"] == "message.send"
    assert "pong" in tasks["items"][0]["content"]
    assert tasks["items"][0]["reason"] == "no API for it"
    assert (await client.get(f"/api/v1/actions/{done['id']}", headers=api_headers)).json()[
        "status"] == "done"
    # Acknowledged actions are not offered again.
    assert (await poll(client, bridge_headers))["actions"] == []


async def test_batch_acks(client: httpx.AsyncClient, runtime: Runtime,
                          bridge_headers: dict[str, str], api_headers: dict[str, str]) -> None:
    await pings(client, bridge_headers, 2, platform="wecom")  # no native adapter: the bridge
    await runtime.delivery.run_once()
    first, second = (await poll(client, bridge_headers))["actions"]
    assert first["platform"] == "wecom"

    response = await client.post("/api/v1/bridge/acks", headers=bridge_headers, json=[
        {"id": first["id"], "result": "failed", "reason": "group gone"},
        {"id": "a-unknown", "result": "done"},
        {"id": second["id"], "result": "unsupported"},
    ])

    results = response.json()["results"]
    assert results[0] == {"id": first["id"], "status": "failed"}
    assert results[1]["id"] == "a-unknown" and results[1]["error"]["code"] == "not_found"
    assert results[2] == {"id": second["id"], "status": "task"}
    failed = (await client.get(f"/api/v1/actions/{first['id']}", headers=api_headers)).json()
    assert failed["last_error"] == "group gone"
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StaffTask)) == 1


async def test_long_poll_times_out_empty(client: httpx.AsyncClient, runtime: Runtime,
                                         bridge_headers: dict[str, str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    looks: list[int] = []
    changed = runtime.bridge.changed

    def recording_changed(org_id: int) -> asyncio.Event:
        looks.append(org_id)
        return changed(org_id)

    monkeypatch.setattr(runtime.bridge, "changed", recording_changed)
    body = await poll(client, bridge_headers, wait=1, after="0")

    assert body == {"actions": [], "cursor": "0"}
    assert len(looks) >= 2  # looked, waited for a signal, looked again, gave up


async def test_long_poll_answers_when_an_action_is_dispatched(
        client: httpx.AsyncClient, runtime: Runtime, bridge_headers: dict[str, str]) -> None:
    waiting = asyncio.create_task(poll(client, bridge_headers, wait=30))
    await pings(client, bridge_headers, 1)
    await runtime.delivery.run_once()

    body = await asyncio.wait_for(waiting, 10)

    assert [a["data"]["text"] for a in body["actions"]] == ["pong"]


async def test_each_org_polls_its_own_actions(client: httpx.AsyncClient, runtime: Runtime,
                                              bridge_headers: dict[str, str]) -> None:
    from tests.api.conftest import make_org

    other = bearer(await make_token(runtime, await make_org(runtime, "b", "B"), "bridge"))
    await pings(client, bridge_headers, 1)
    await runtime.delivery.run_once()

    assert (await poll(client, other))["actions"] == []
    assert len((await poll(client, bridge_headers))["actions"]) == 1


@pytest.mark.parametrize("params, path", [({"after": "x1"}, "query.after"),
                                          ({"wait": 61}, "query.wait"),
                                          ({"limit": 0}, "query.limit")])
async def test_poll_validates_its_parameters(client: httpx.AsyncClient,
                                             bridge_headers: dict[str, str],
                                             params: dict[str, Any], path: str) -> None:
    response = await client.get(POLL, params=params, headers=bridge_headers)
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == [path]


async def test_ack_validates_and_scopes(client: httpx.AsyncClient,
                                        bridge_headers: dict[str, str]) -> None:
    bad = await client.post(f"{POLL}/a1/ack", json={"result": "maybe"}, headers=bridge_headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "body.result"
    missing = await client.post(f"{POLL}/a1/ack", json={"result": "done"},
                                headers=bridge_headers)
    assert missing.status_code == 404
