"""Fixtures of the sign-in, staff and audit tests: the dashboard app, staff, a signed-in client.

Two stores: 上海店 (groups sh1, sh2) and 北京店 (bj1); the guide works for 上海店 only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

import qunyun.community.staff_sessions as staff_sessions
from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Scope
from qunyun.community.audit import AuditEntry
from qunyun.community.service import do_create_community, do_create_group
from qunyun.community.staff_service import cli_principal, do_create_staff
from qunyun.web.app import mount_dashboard

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id still, with small parameters: tests hash many passwords, production few."""
    monkeypatch.setattr(staff_sessions, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
HTML = {"Accept": "text/html"}


@dataclass(frozen=True, slots=True)
class Org:
    org_id: int
    community_id: int
    shanghai: int
    popup: int
    beijing: int


@pytest.fixture
async def org(runtime: Runtime, org_id: int) -> Org:
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        community = await do_create_community(session, org_id=org_id, name="米粉同城会", at=now)
        groups = [await do_create_group(session, org_id=org_id, platform="bridge",
                                        platform_id=pid, name=name, at=now,
                                        community_id=community.id, store=store)
                  for pid, name, store in (("sh1", "上海一店会员群", "上海店"),
                                           ("sh2", "上海快闪群", "上海店"),
                                           ("bj1", "北京会员群", "北京店"))]
        await session.commit()
    return Org(org_id, community.id, *(g.id for g in groups))


async def add_staff(runtime: Runtime, org_id: int, username: str, role: str,
                    scope: Scope | None = None) -> int:
    async with runtime.write_sessions() as session:
        user = await do_create_staff(session, principal=cli_principal(org_id), username=username,
                                     password=PASSWORD, role=role, scope=scope or Scope(),
                                     at=runtime.clock.now())
        await session.commit()
        return user.id


SHANGHAI = Scope(whole_org=False, stores=frozenset({"上海店"}))


@pytest.fixture
async def staff(runtime: Runtime, org: Org) -> dict[str, int]:
    """Staff ids by username: boss (owner), ops (operator), sh-guide (guide of 上海店)."""
    return {"boss": await add_staff(runtime, org.org_id, "boss", "owner"),
            "ops": await add_staff(runtime, org.org_id, "ops", "operator"),
            "sh-guide": await add_staff(runtime, org.org_id, "sh-guide", "guide", SHANGHAI)}


def dashboard_client(runtime: Runtime, **headers: str) -> httpx.AsyncClient:
    app = create_app(runtime)
    mount_dashboard(app, runtime)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                             headers={**HTML, **headers})


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with dashboard_client(runtime) as http:
        yield http


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


async def sign_in(client: httpx.AsyncClient, username: str,
                  password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post("/login", data={"username": username, "password": password,
                                             "csrf_token": csrf_of(page.text), "next": "/audit"})


@asynccontextmanager
async def signed_in(runtime: Runtime, username: str) -> AsyncIterator[httpx.AsyncClient]:
    """A dashboard client signed in through the login form."""
    async with dashboard_client(runtime) as client:
        response = await sign_in(client, username)
        assert response.status_code == 303, response.text
        yield client


async def audit_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
