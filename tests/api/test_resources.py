"""The REST resources: filters, pagination, details, the few writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from qunyun.app.bootstrap import Runtime
from qunyun.core.clock import ManualClock
from tests.api.conftest import post_events
from tests.factories import joined, left, message

V1 = "/api/v1"


async def get(client: httpx.AsyncClient, headers: dict[str, str], path: str,
              **params: Any) -> Any:
    response = await client.get(V1 + path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_organization_and_communities(client: httpx.AsyncClient,
                                            api_headers: dict[str, str]) -> None:
    org = await get(client, api_headers, "/organization")
    assert org["slug"] == "default"
    for name in ("二号社群", "三号社群"):
        created = await client.post(f"{V1}/communities", headers=api_headers,
                                    json={"name": name, "positioning": "同城", "rules": "友善"})
        assert created.status_code == 201
    page = await get(client, api_headers, "/communities", limit=2, offset=1)
    assert page["total"] == 3
    assert [c["name"] for c in page["items"]] == ["二号社群", "三号社群"]
    one = await get(client, api_headers, f"/communities/{page['items'][0]['id']}")
    assert one["positioning"] == "同城" and one["rules"] == "友善"


async def test_groups_filter_and_tags(client: httpx.AsyncClient,
                                      api_headers: dict[str, str]) -> None:
    community = (await get(client, api_headers, "/communities"))["items"][0]["id"]
    specs = [("qq", "q1", "北京 100% 会员群", "member", ["北京", "会员"]),
             ("wecom", "w1", "上海获客群", "acquisition", ["上海"]),
             ("qq", "q2", "Beijing Sale", "flash_sale", [])]
    for platform, pid, name, purpose, tags in specs:
        response = await client.post(f"{V1}/groups", headers=api_headers, json={
            "platform": platform, "platform_id": pid, "name": name, "purpose": purpose,
            "tags": tags, "community_id": community, "capacity": 500})
        assert response.status_code == 201, response.text

    def names(page: dict[str, Any]) -> list[str]:
        return [g["name"] for g in page["items"]]

    assert (await get(client, api_headers, "/groups"))["total"] == 3
    assert names(await get(client, api_headers, "/groups", platform="qq")) == [
        "北京 100% 会员群", "Beijing Sale"]
    assert names(await get(client, api_headers, "/groups", tag="北京")) == ["北京 100% 会员群"]
    assert names(await get(client, api_headers, "/groups", purpose="acquisition")) == [
        "上海获客群"]
    assert names(await get(client, api_headers, "/groups", q="beijing")) == ["Beijing Sale"]
    assert names(await get(client, api_headers, "/groups", q="100%")) == ["北京 100% 会员群"]
    assert names(await get(client, api_headers, "/groups", q="%")) == ["北京 100% 会员群"]
    assert (await get(client, api_headers, "/groups", status="dismissed"))["total"] == 0
    assert (await get(client, api_headers, "/groups", community_id=community))["total"] == 3
    first = (await get(client, api_headers, "/groups", limit=1))["items"][0]
    detail = await get(client, api_headers, f"/groups/{first['id']}")
    assert sorted(detail["tags"]) == sorted(["北京", "会员"])
    assert detail["capacity"] == 500 and detail["community_id"] == community
    duplicate = await client.post(f"{V1}/groups", headers=api_headers, json={
        "platform": "qq", "platform_id": "q1", "name": "again"})
    assert duplicate.status_code == 409


async def test_stats_members_and_persons(client: httpx.AsyncClient, runtime: Runtime,
                                         clock: ManualClock, bridge_headers: dict[str, str],
                                         api_headers: dict[str, str]) -> None:
    day = 24 * 60
    await post_events(client, bridge_headers, [
        joined("u1", name="小王", minutes=-day), message("u1", minutes=-day + 1),
        joined("u2", name="小李"), message("u2"), message("u1", minutes=2),
        left("u2", minutes=3), joined("u2", name="小李", minutes=4),
    ])
    clock.advance(timedelta(hours=1))
    group = (await get(client, api_headers, "/groups"))["items"][0]

    stats = await get(client, api_headers, f"/groups/{group['id']}/stats", days=3)
    assert stats["timezone"] == "Asia/Shanghai"
    assert (stats["start"], stats["end"]) == ("2026-11-20", "2026-11-22")
    assert [(d["day"], d["joins"], d["leaves"], d["messages"], d["speakers"])
            for d in stats["days"]] == [("2026-11-20", 0, 0, 0, 0), ("2026-11-21", 1, 0, 1, 1),
                                        ("2026-11-22", 2, 1, 2, 2)]

    members = await get(client, api_headers, f"/groups/{group['id']}/members")
    assert [(m["name"], m["status"], m["message_count"]) for m in members["items"]] == [
        ("小王", "active", 2), ("小李", "left", 1), ("小李", "active", 0)]
    left_only = await get(client, api_headers, f"/groups/{group['id']}/members", status="left")
    assert left_only["total"] == 1 and left_only["items"][0]["left_at"] is not None

    persons = await get(client, api_headers, "/persons", q="李")
    assert [p["display_name"] for p in persons["items"]] == ["小李"]
    person = await get(client, api_headers, f"/persons/{persons['items'][0]['id']}")
    assert person["accounts"] == [{"platform": "bridge", "platform_user_id": "u2",
                                   "display_name": "小李"}]
    assert [(h["group_name"], h["status"]) for h in person["history"]] == [
        ("g1", "left"), ("g1", "active")]
    periods = await get(client, api_headers, "/memberships", person_id=person["id"],
                        status="active")
    assert periods["total"] == 1
    assert (await get(client, api_headers, "/memberships", group_id=group["id"]))["total"] == 3


async def test_events_actions_tasks_failures(client: httpx.AsyncClient, runtime: Runtime,
                                             clock: ManualClock, bridge_headers: dict[str, str],
                                             api_headers: dict[str, str]) -> None:
    await post_events(client, bridge_headers, [
        joined("u1", id="x1"), message("u1", text="ping", id="x2"),
        message("u1", text="boom", id="x3")])

    events = await get(client, api_headers, "/events", type="message.posted")
    assert [e["event"]["id"] for e in events["items"]] == ["x2", "x3"]
    assert events["items"][0]["event"]["data"]["text"] == "ping"
    after = await get(client, api_headers, "/events", after=events["items"][0]["seq"])
    assert [e["event"]["id"] for e in after["items"]] == ["x3"]

    actions = await get(client, api_headers, "/actions", status="pending")
    assert actions["total"] == 1 and actions["items"][0]["caused_by"] == "x2"
    assert (await get(client, api_headers, "/actions", platform="qq"))["total"] == 0
    action = actions["items"][0]
    await runtime.delivery.run_once()
    await client.post(f"{V1}/bridge/actions/{action['id']}/ack", headers=bridge_headers,
                      json={"result": "unsupported"})

    task = (await get(client, api_headers, "/tasks", status="open"))["items"][0]
    clock.advance(timedelta(minutes=5))
    done = (await client.post(f"{V1}/tasks/{task['id']}/done", headers=api_headers)).json()
    assert done["status"] == "done" and done["done_by"] == "运营小李"
    assert done["done_at"] == "2026-11-22T00:05:00Z"
    clock.advance(timedelta(minutes=5))
    again = (await client.post(f"{V1}/tasks/{task['id']}/done", headers=api_headers)).json()
    assert again["done_at"] == "2026-11-22T00:05:00Z"
    assert (await get(client, api_headers, "/tasks", status="open"))["total"] == 0
    assert (await client.post(f"{V1}/tasks/999/done", headers=api_headers)).status_code == 404

    failures = await get(client, api_headers, "/failures")
    assert [(f["feature"], f["event"]) for f in failures["items"]] == [("boom", "bridge:x3")]
    assert "boom on purpose" in failures["items"][0]["error"]


async def test_features(client: httpx.AsyncClient, api_headers: dict[str, str]) -> None:
    features = await get(client, api_headers, "/features")

    assert [f["name"] for f in features["items"]] == ["echo", "boom", "stats"]
    echo = features["items"][0]
    assert echo["events"] == ["message.posted"] and echo["order"] == 100
    assert echo["settings_schema"]["properties"]["answer"]["default"] == "pong"
    assert (await get(client, api_headers, "/features", offset=2))["items"][0]["name"] == "stats"
