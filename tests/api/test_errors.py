"""Errors: one JSON shape, translated with Accept-Language (zh_CN by default, en second)."""

from __future__ import annotations

import httpx
import pytest

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime
from qunyun.core import i18n

CHINESE = {
    "an Authorization: Bearer token is required": "需要 Authorization: Bearer 令牌",
    "the request is invalid": "请求无效",
    "must be at least {limit}": "不能小于 {limit}",
    "is required": "必填",
    "no such group: {id}": "没有这个群：{id}",
}


@pytest.fixture
def chinese_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small zh_CN catalog standing in for the generated one."""
    monkeypatch.setattr(i18n, "_catalog",
                        lambda locale: CHINESE if locale == "zh_CN" else {})


@pytest.mark.usefixtures("chinese_catalog")
@pytest.mark.parametrize("language, expected", [
    (None, "需要 Authorization: Bearer 令牌"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "需要 Authorization: Bearer 令牌"),
    ("en", "an Authorization: Bearer token is required"),
    ("en-US,en;q=0.9", "an Authorization: Bearer token is required"),
    ("fr", "需要 Authorization: Bearer 令牌"),
])
async def test_errors_follow_accept_language(client: httpx.AsyncClient, language: str | None,
                                             expected: str) -> None:
    headers = {"Accept-Language": language} if language else {}
    response = await client.get("/api/v1/groups", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"code": "unauthorized", "message": expected, "errors": []}


@pytest.mark.usefixtures("chinese_catalog")
async def test_validation_errors_name_the_field(client: httpx.AsyncClient,
                                                api_headers: dict[str, str]) -> None:
    zh = await client.get("/api/v1/groups", params={"limit": 0}, headers=api_headers)
    en = await client.get("/api/v1/groups", params={"limit": 0},
                          headers={**api_headers, "Accept-Language": "en"})

    assert zh.status_code == en.status_code == 422
    assert zh.json() == {"code": "invalid_input", "message": "请求无效",
                         "errors": [{"path": "query.limit", "reason": "不能小于 1"}]}
    assert en.json() == {"code": "invalid_input", "message": "the request is invalid",
                         "errors": [{"path": "query.limit", "reason": "must be at least 1"}]}


@pytest.mark.usefixtures("chinese_catalog")
async def test_not_found_is_translated(client: httpx.AsyncClient,
                                       api_headers: dict[str, str]) -> None:
    response = await client.get("/api/v1/groups/999", headers=api_headers)

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "没有这个群：999", "errors": []}


async def test_body_errors(client: httpx.AsyncClient, api_headers: dict[str, str]) -> None:
    english = {**api_headers, "Accept-Language": "en"}
    missing = await client.post("/api/v1/communities", json={}, headers=english)
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"path": "body.name", "reason": "is required"}]

    broken = await client.post("/api/v1/communities", content=b"{nope",
                               headers={**english, "Content-Type": "application/json"})
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["path"] == "body"
    assert broken.json()["errors"][0]["reason"].startswith("is not valid JSON")

    purpose = await client.post("/api/v1/groups", headers=english, json={
        "platform": "bridge", "platform_id": "g9", "name": "g9", "purpose": "party"})
    assert purpose.status_code == 422
    assert purpose.json()["errors"][0]["path"] == "body.purpose"
    assert purpose.json()["errors"][0]["reason"].startswith("must be one of")


async def test_conflicts_and_framework_errors(client: httpx.AsyncClient,
                                              api_headers: dict[str, str]) -> None:
    english = {**api_headers, "Accept-Language": "en"}
    first = await client.post("/api/v1/communities", json={"name": "米粉同城会"}, headers=english)
    again = await client.post("/api/v1/communities", json={"name": "米粉同城会"}, headers=english)
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json() == {"code": "conflict", "errors": [],
                            "message": "a community named 米粉同城会 exists already"}

    unknown = await client.get("/api/v1/nothing-here", headers=english)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    method = await client.delete("/api/v1/groups", headers=english)
    assert method.status_code == 405 and method.json()["code"] == "method_not_allowed"


async def test_unexpected_errors_keep_the_shape(runtime: Runtime) -> None:
    app = create_app(runtime)

    @app.get("/api/v1/test-only-crash")
    async def crash() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/api/v1/test-only-crash", headers={"Accept-Language": "en"})

    assert response.status_code == 500
    assert response.json() == {"code": "internal_error", "errors": [],
                               "message": "something went wrong on the server"}


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/bridge/events" in schema["paths"]
    assert {"ApiToken", "BridgeToken"} <= set(schema["components"]["securitySchemes"])
    assert (await client.get("/api/v1/docs")).status_code == 200
