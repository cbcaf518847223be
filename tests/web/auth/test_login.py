"""Signing in and out through the HTTP app: cookies, CSRF, the rate limit, password changes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.staff import StaffSession
from qunyun.core.clock import ManualClock
from qunyun.web.deps import SESSION_COOKIE
from tests.web.auth.conftest import PASSWORD, csrf_of, dashboard_client, sign_in, signed_in


async def session_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(StaffSession)) or 0)


async def test_a_page_without_session_redirects_to_login(client: httpx.AsyncClient,
                                                         staff: dict[str, int]) -> None:
    response = await client.get("/audit?actor=cli")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faudit%3Factor%3Dcli"
    fragment = await client.get("/audit", headers={"HX-Request": "true",
                                                   "HX-Current-URL": "http://test/audit"})
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"] == "/login?next=%2Faudit"
    api_like = await client.get("/audit", headers={"Accept": "application/json"})
    assert api_like.status_code == 401


async def test_sign_in_sets_a_session_cookie_and_sign_out_ends_it(
        runtime: Runtime, client: httpx.AsyncClient, staff: dict[str, int]) -> None:
    response = await sign_in(client, "boss")
    assert response.status_code == 303
    assert response.headers["location"] == "/audit"
    [cookie] = [c for c in response.headers.get_list("set-cookie")
                if c.startswith(f"{SESSION_COOKIE}=")]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=1209600" in cookie
    page = await client.get("/account/password")
    assert page.status_code == 200 and "boss" in page.text
    assert await session_count(runtime) == 1

    out = await client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert await session_count(runtime) == 0
    assert (await client.get("/account/password")).status_code == 303


async def test_wrong_password_keeps_the_username_and_says_so(client: httpx.AsyncClient,
                                                             staff: dict[str, int]) -> None:
    response = await sign_in(client, "boss", "wrong password")
    assert response.status_code == 401
    assert 'value="boss"' in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_messages_follow_the_language(runtime: Runtime, staff: dict[str, int]) -> None:
    async with dashboard_client(runtime, **{"Accept-Language": "en"}) as client:
        response = await sign_in(client, "nobody", "whatever1")
    assert response.status_code == 401
    assert "wrong username or password" in response.text
    assert 'value="nobody"' in response.text


async def test_failed_attempts_are_rate_limited_per_username(
        runtime: Runtime, client: httpx.AsyncClient, staff: dict[str, int],
        clock: ManualClock) -> None:
    for _ in range(5):
        assert (await sign_in(client, "boss", "bad password")).status_code == 401
    refused = await sign_in(client, "boss")  # even the right password waits
    assert refused.status_code == 429
    assert 'value="boss"' in refused.text
    clock.advance(timedelta(minutes=16))
    assert (await sign_in(client, "boss")).status_code == 303


async def test_failed_attempts_are_rate_limited_per_address(
        client: httpx.AsyncClient, staff: dict[str, int]) -> None:
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert (await sign_in(client, name, "bad password")).status_code == 401
    assert (await sign_in(client, "ops")).status_code == 429


async def test_login_form_needs_its_csrf_token(client: httpx.AsyncClient,
                                               staff: dict[str, int]) -> None:
    await client.get("/login")
    response = await client.post("/login", data={"username": "boss", "password": PASSWORD,
                                                 "csrf_token": "forged"})
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_next_never_leaves_the_site(client: httpx.AsyncClient,
                                          staff: dict[str, int]) -> None:
    page = await client.get("/login?next=//evil.example/x")
    response = await client.post("/login", data={
        "username": "boss", "password": PASSWORD, "csrf_token": csrf_of(page.text),
        "next": "https://evil.example/"})
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_changes_without_the_csrf_token_are_refused(runtime: Runtime,
                                                          staff: dict[str, int]) -> None:
    async with signed_in(runtime, "boss") as client:
        response = await client.post("/account/password", data={
            "current": PASSWORD, "new": "another password", "confirm": "another password"})
        assert response.status_code == 403
        wrong = await client.post("/logout", data={"csrf_token": "nope"})
        assert wrong.status_code == 403
        assert (await client.get("/account/password")).status_code == 200
    async with signed_in(runtime, "boss") as again:  # the password did not change
        assert (await again.get("/account/password")).status_code == 200


async def test_password_change_ends_the_other_sessions(runtime: Runtime,
                                                       staff: dict[str, int]) -> None:
    async with signed_in(runtime, "ops") as phone, signed_in(runtime, "ops") as desk:
        page = await desk.get("/account/password")
        token = csrf_of(page.text)
        mismatch = await desk.post("/account/password", data={
            "csrf_token": token, "current": PASSWORD, "new": "new secret 1",
            "confirm": "new secret 2"})
        assert mismatch.status_code == 422
        short = await desk.post("/account/password", data={
            "csrf_token": token, "current": "not it", "new": "short", "confirm": "short"})
        assert short.status_code == 422
        assert "aria-invalid" in short.text
        done = await desk.post("/account/password", data={
            "csrf_token": token, "current": PASSWORD, "new": "new secret 1",
            "confirm": "new secret 1"})
        assert done.status_code == 303
        assert (await desk.get("/account/password")).status_code == 200
        assert (await phone.get("/account/password")).status_code == 303
    async with dashboard_client(runtime) as client:
        assert (await sign_in(client, "ops")).status_code == 401
        assert (await sign_in(client, "ops", "new secret 1")).status_code == 303


async def test_sessions_expire_unless_used(runtime: Runtime, staff: dict[str, int],
                                           clock: ManualClock) -> None:
    async with signed_in(runtime, "boss") as client:
        clock.advance(timedelta(days=10))
        used = await client.get("/account/password")
        assert used.status_code == 200
        assert SESSION_COOKIE in used.headers.get("set-cookie", "")  # the cookie slides too
        clock.advance(timedelta(days=10))
        assert (await client.get("/account/password")).status_code == 200
        clock.advance(timedelta(days=15))
        assert (await client.get("/account/password")).status_code == 303
    assert await session_count(runtime) == 0


async def test_any_text_as_a_csrf_token_is_refused_cleanly(runtime: Runtime,
                                                           staff: dict[str, int]) -> None:
    async with signed_in(runtime, "boss") as client:
        response = await client.post("/logout", data={"csrf_token": "令牌"})
        assert response.status_code == 403
    async with dashboard_client(runtime) as client:
        await client.get("/login")
        response = await client.post("/login", data={"username": "boss", "password": PASSWORD,
                                                     "csrf_token": "令牌"})
        assert response.status_code == 403


async def test_a_sliding_refresh_waits_for_another_writer(
        runtime: Runtime, staff: dict[str, int], clock: ManualClock) -> None:
    """The refresh is a write on a page view: on SQLite, meeting another writer's lock, it
    waits for it instead of failing the page."""
    async with signed_in(runtime, "boss") as client:
        clock.advance(timedelta(days=10))  # the next view refreshes the session
        async with runtime.write_sessions() as other:
            await other.execute(select(func.count()).select_from(StaffSession))  # holds the lock

            async def release() -> None:
                await asyncio.sleep(0.3)
                await other.commit()

            releasing = asyncio.create_task(release())
            page = await client.get("/account/password")
            await releasing
        assert page.status_code == 200
        assert SESSION_COOKIE in page.headers.get("set-cookie", "")
