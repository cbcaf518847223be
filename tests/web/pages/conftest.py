"""Fixtures of the dashboard page tests: a small organization with two stores, signed-in staff.

Groups: 上海一店会员群 (store 上海店, community 米粉同城会, tag 上海), 上海快闪群 (上海店),
北京会员群 (store 北京店, tag 北京; shrinking: joins 9 days ago, leaves today), and a quiet
训练营 group without a store. Events go through the real pipeline, so rollups and memberships
are what production would have.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.access import Scope
from qunyun.community.service import do_create_community, do_create_group
from qunyun.community.staff_service import cli_principal, do_create_staff
from qunyun.community.staff_sessions import open_session
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.events import parse_event
from qunyun.web.app import mount_dashboard
from qunyun.web.deps import SESSION_COOKIE
from tests.api.conftest import api_registry
from tests.factories import joined, left, message

PASSWORD = "correct horse battery"
DAY = 24 * 60  # minutes


@dataclass(frozen=True, slots=True)
class Shop:
    """The ids of what the fixture created."""

    org_id: int
    community_id: int
    shanghai: int
    popup: int
    beijing: int
    camp: int


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False, registry=api_registry())
    yield rt
    await rt.close()


async def _events(runtime: Runtime, org_id: int, raw: list[dict[str, Any]]) -> None:
    await runtime.pipeline.process(org_id, [parse_event(e) for e in raw])


@pytest.fixture
async def shop(runtime: Runtime, org_id: int) -> Shop:
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        community = await do_create_community(session, org_id=org_id, name="米粉同城会", at=now)
        made = [await do_create_group(session, org_id=org_id, platform="bridge", platform_id=pid,
                                      name=name, at=now, community_id=community.id,
                                      purpose=purpose, store=store, tags=tags)
                for pid, name, purpose, store, tags in (
                    ("sh1", "上海一店会员群", "member", "上海店", ["上海"]),
                    ("sh2", "上海快闪群", "popup", "上海店", []),
                    ("bj1", "北京会员群", "member", "北京店", ["北京"]),
                    ("camp", "训练营", "course", None, []))]
        await session.commit()
    await _events(runtime, org_id, [
        *(joined(f"s{i}", name=f"上海会员{i}", group="sh1", minutes=-600 + i) for i in range(5)),
        *(message(f"s{i}", text=f"大家好 {i}", group="sh1", minutes=-300 + i) for i in range(5)),
        message("s0", text="今天有活动吗", group="sh1", minutes=-200),
        left("s4", group="sh1", minutes=-100),
        joined("p1", name="快闪客", group="sh2", minutes=-500),
        *(joined(f"b{i}", name=f"北京会员{i}", group="bj1", minutes=-9 * DAY + i)
          for i in range(3)),
        *(left(f"b{i}", group="bj1", minutes=-50 + i) for i in range(2)),
        message("b2", text="北京见", group="bj1", minutes=-40),
    ])
    return Shop(org_id, community.id, *(g.id for g in made))


async def signed_in_client(runtime: Runtime, org_id: int, username: str, role: str,
                           scope: Scope | None = None) -> httpx.AsyncClient:
    """A client of the dashboard with a staff member's session cookie."""
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        user = await do_create_staff(session, principal=cli_principal(org_id), username=username,
                                     password=PASSWORD, role=role, scope=scope or Scope(), at=now)
        signed = await open_session(session, user=user, at=now)
        await session.commit()
    app = create_app(runtime)
    mount_dashboard(app, runtime)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                               headers={"Accept": "text/html"})
    client.cookies.set(SESSION_COOKIE, signed.token)
    return client


@pytest.fixture
async def owner(runtime: Runtime, shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    async with await signed_in_client(runtime, shop.org_id, "hq-owner", "owner") as client:
        yield client


@pytest.fixture
async def guide(runtime: Runtime, shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    scope = Scope(whole_org=False, stores=frozenset({"上海店"}))
    async with await signed_in_client(runtime, shop.org_id, "sh-guide", "guide", scope) as client:
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]
