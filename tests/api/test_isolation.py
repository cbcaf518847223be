"""Tenant isolation: walk every route under /api/v1 with another organization's token.

Organization A's data all carries the marker "alpha"; B's token, given A's ids in every path
and filter, must never see it, nor change A's data. A new route fails this test until the
test knows how to call it (its path ids and its body), so a route cannot leak unnoticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, iter_route_contexts

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime
from qunyun.community.models import PersonTag, Tag
from tests.api.conftest import bearer, make_org, make_token, post_events
from tests.factories import joined, left, message

PUBLIC = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect"}
GLOBAL = {"/api/v1/features"}  # the same for every organization: no organization's data
# Platforms call these with their own signatures for a configured connection (which names its
# organization), not with our tokens: checked apart, in test_platform_inbound_needs_a_connection.
PLATFORM_SIGNED = {"/api/v1/onebot/{name}/events", "/api/v1/onebot/{name}/ws",
                   "/api/v1/telegram/{name}/webhook", "/api/v1/wecom/{name}/callback"}
MARKER = "alpha"
ID_FILTERS = ("group_id", "person_id", "community_id")


@dataclass
class Org:
    id: int
    api: dict[str, str]
    bridge: dict[str, str]
    ids: dict[str, Any]


def bodies(ids: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """What B sends to each route that takes a body, aimed at A's objects where it can."""
    return {
        ("POST", "/api/v1/communities"): {"name": "beta-new-community"},
        ("POST", "/api/v1/groups"): {"platform": "bridge", "platform_id": "beta-new",
                                     "name": "beta new", "community_id": ids["community_id"]},
        ("POST", "/api/v1/tasks/{task_id}/done"): None,
        ("POST", "/api/v1/bridge/events"): [message("beta-u9", text="ping", group="shared-g",
                                                     id="beta-e9")],
        ("POST", "/api/v1/bridge/actions/{action_id}/ack"): {"result": "done"},
        ("POST", "/api/v1/bridge/acks"): [{"id": ids["action_id"], "result": "done"}],
        ("POST", "/api/v1/communities/{community_id}/points/{person_id}/adjust"):
            {"amount": 5, "note": "beta"},
    }


async def seed(client: httpx.AsyncClient, runtime: Runtime, prefix: str) -> Org:
    org_id = await make_org(runtime, f"org-{prefix}", f"{prefix}-org")
    api = bearer(await make_token(runtime, org_id, "api", f"{prefix}-api"))
    bridge = bearer(await make_token(runtime, org_id, "bridge", f"{prefix}-bridge"))
    community = (await client.post("/api/v1/communities", json={"name": f"{prefix}-community"},
                                   headers=api)).json()
    group = (await client.post("/api/v1/groups", headers=api, json={
        "platform": "bridge", "platform_id": f"{prefix}-g1", "name": f"{prefix} group",
        "community_id": community["id"], "tags": [f"{prefix}-tag"]})).json()
    g1 = f"{prefix}-g1"
    await post_events(client, bridge, [
        joined(f"{prefix}-u1", name=f"{prefix}-name", group=g1, id=f"{prefix}-e1",
               code=f"{prefix}-code"),
        message(f"{prefix}-u1", text=f"ping {prefix}", group=g1, id=f"{prefix}-e2"),
        message(f"{prefix}-u1", text="boom", group=g1, id=f"{prefix}-e3"),
        joined(f"{prefix}-u2", group="shared-g", id=f"{prefix}-e4"),
        message(f"{prefix}-u2", text="ping", group="shared-g", id=f"{prefix}-e5"),
        left(f"{prefix}-u2", group="shared-g", id=f"{prefix}-e6"),
    ])
    await runtime.delivery.run_once()
    polled = (await client.get("/api/v1/bridge/actions", params={"wait": 0},
                               headers=bridge)).json()["actions"]
    await client.post(f"/api/v1/bridge/actions/{polled[0]['id']}/ack", headers=bridge,
                      json={"result": "unsupported", "reason": f"{prefix}-reason"})
    person = (await client.get("/api/v1/persons", params={"q": f"{prefix}-name"},
                               headers=api)).json()["items"][0]
    await tag_person(runtime, org_id, person["id"], f"{prefix}-person-tag")
    task = (await client.get("/api/v1/tasks", headers=api)).json()["items"][0]
    ids = {"community_id": community["id"], "group_id": group["id"], "person_id": person["id"],
           "action_id": polled[1]["id"], "task_id": task["id"]}
    return Org(org_id, api, bridge, ids)


async def tag_person(runtime: Runtime, org_id: int, person_id: int, name: str) -> None:
    async with runtime.sessions() as session:
        tag = Tag(org_id=org_id, name=name)
        session.add(tag)
        await session.flush()
        session.add(PersonTag(person_id=person_id, tag_id=tag.id))
        await session.commit()


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every operation under /api/v1."""
    found = []
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if not path.startswith("/api/v1") or path in PUBLIC or path in PLATFORM_SIGNED:
            continue
        route = context.original_route
        assert isinstance(route, APIRoute), f"{path}: unexpected kind of route"
        found += [(method, path, route) for method in sorted(context.methods or ())]
    assert len(found) >= 20
    return found


def fill_path(path: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"{path}: unknown path parameter {name}; teach this test A's id for it")
        return str(ids[name])

    return re.sub(r"{(\w+)}", value, path)


def query_variants(route: APIRoute, ids: dict[str, Any]) -> list[dict[str, Any]]:
    names = {p.alias for p in get_flat_params(route.dependant)} - set(route.param_convertors)
    base = {"wait": 0} if "wait" in names else {}
    filters = {name: ids[name] for name in ID_FILTERS if name in names}
    return [base, {**base, **filters}] if filters else [base]


async def call(client: httpx.AsyncClient, method: str, path: str, route: APIRoute,
               headers: dict[str, str], ids: dict[str, Any],
               params: dict[str, Any] | None = None) -> httpx.Response:
    body_for = bodies(ids)
    if route.body_field is not None or method != "GET":
        assert (method, path) in body_for, f"{method} {path}: teach this test a body for it"
    return await client.request(method, fill_path(path, ids), headers=headers, params=params,
                                json=body_for.get((method, path)))


def object_keys(body: dict[str, Any]) -> set[Any]:
    """The ids of the objects an answer shows (a list's items, or the one object)."""
    items = body.get("items", [body])
    return {item.get("id", item.get("seq")) for item in items} - {None}


async def snapshot(client: httpx.AsyncClient, app: FastAPI, org: Org) -> dict[str, Any]:
    """Everything A's own token reads from its list routes."""
    seen = {}
    for method, path, _route in api_routes(app):
        if method == "GET" and "{" not in path and not path.startswith("/api/v1/bridge"):
            response = await client.get(path, headers=org.api, params={"limit": 500})
            assert response.status_code == 200, (path, response.text)
            seen[path] = response.json()
    return seen


async def test_no_route_leaks_another_organizations_data(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    alpha = await seed(client, runtime, MARKER)
    beta = await seed(client, runtime, "beta")
    app = create_app(runtime)
    before = await snapshot(client, app, alpha)
    for path in ("/api/v1/events", "/api/v1/failures", "/api/v1/tasks", "/api/v1/persons"):
        assert MARKER in str(before[path]).lower(), f"{path}: the seed should show A's data"

    for method, path, route in api_routes(app):
        headers = beta.bridge if path.startswith("/api/v1/bridge/") else beta.api
        for params in query_variants(route, alpha.ids):
            response = await call(client, method, path, route, headers, alpha.ids, params)
            where = f"{method} {path} {params}"
            assert MARKER not in response.text.lower(), f"{where} leaks: {response.text[:300]}"
            if path in before and path not in GLOBAL:
                leaked = object_keys(response.json()) & object_keys(before[path])
                assert not leaked, f"{where} leaks A's objects {leaked}"
            if "{" in path:
                assert response.status_code in (403, 404), (where, response.text)
            else:
                # 404: the body named one of A's objects (a community for a new group)
                assert response.status_code in (200, 201, 404, 422), (where, response.text)

    assert await snapshot(client, app, alpha) == before


async def test_tokens_are_checked_on_every_route(client: httpx.AsyncClient,
                                                 runtime: Runtime) -> None:
    org = await seed(client, runtime, "beta")
    app = create_app(runtime)
    for method, path, route in api_routes(app):
        bridge_route = path.startswith("/api/v1/bridge/")
        wrong_kind = org.api if bridge_route else org.bridge
        cases = [({}, 401), (bearer("qya_not-a-token"), 401), (wrong_kind, 403)]
        for headers, expected in cases:
            response = await call(client, method, path, route, headers, org.ids)
            assert response.status_code == expected, (method, path, headers, response.text)
            assert response.json()["code"] in ("unauthorized", "forbidden")


async def test_platform_inbound_needs_a_connection(client: httpx.AsyncClient,
                                                  runtime: Runtime) -> None:
    """Without a configured connection of that name, platform callbacks store nothing."""
    org = await seed(client, runtime, "beta")
    app = create_app(runtime)
    signed = {c.path for c in iter_route_contexts(app.routes)} & PLATFORM_SIGNED
    assert signed == PLATFORM_SIGNED
    before = (await client.get("/api/v1/events", headers=org.api)).json()
    for path in sorted(signed - {"/api/v1/onebot/{name}/ws"}):
        url = path.replace("{name}", "nobody")
        for method in ("GET", "POST"):
            response = await client.request(method, url, json={"post_type": "message"})
            assert response.status_code in (401, 403, 404, 405, 422), (method, path, response.text)
    assert (await client.get("/api/v1/events", headers=org.api)).json() == before
