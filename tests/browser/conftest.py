"""The dashboard in a real browser: Debian's chromium driven by Playwright's Python API (no
browser download), against `qunyun serve` on a demo database, and against an in-process server
whose bot answers in the playground.

Without chromium these tests fail in CI (CI=true) and are skipped elsewhere. A screenshot of
every page visited is saved under test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.app.demo import DemoParams, build_demo
from qunyun.app.features import builtin_features
from qunyun.community.access import Scope
from qunyun.community.models import Group
from qunyun.community.service import (
    do_create_community,
    do_create_group,
    do_create_organization,
)
from qunyun.community.staff_service import cli_principal, do_create_staff
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry
from tests.browser.servers import ServeProcess, ThreadServer, sqlite_url
from tests.web.playground.bot import playground_bot

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "browser-test-password"
GUIDE = "bj-guide"
GUIDE_STORE = "北京朝阳店"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def run_in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion in a thread of its own (Playwright's sync API keeps an
    event loop running in this one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Chromium and Playwright's Python package are here (else: fail in CI, skip elsewhere)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is missing (pip install -e '.[dev]')")


@pytest.fixture(scope="module")
def browser(browser_available: None) -> Iterator[Any]:
    """Chromium for one test module. Playwright's sync API runs an event loop in this thread
    while it is open, so it is closed after each module: later tests get a thread without one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as api:
        chromium = api.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    yield context.new_page()
    context.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save the page (whole, or what the window shows) as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Any, base_url: str, username: str, password: str = PASSWORD,
            shot: str | None = None) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    if shot:
        screenshot(page, shot)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


# --- the demo behind `qunyun serve` -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DemoSite:
    base_url: str
    password: str  # of the demo owner, `demo`
    other_store_group: int  # a group of another store than the guide's


async def _prepare_demo(database: Path) -> tuple[str, int]:
    config = Config(data_dir=database.parent, database_url=sqlite_url(database))
    result = await build_demo(config, DemoParams(members=300, groups=9),
                              now=datetime.now(UTC))
    assert result.password is not None
    runtime = await build_runtime(config, migrate=False)
    try:
        async with runtime.write_sessions() as session:
            await do_create_staff(session, principal=cli_principal(result.org_id),
                                  username=GUIDE, password=PASSWORD, role="guide",
                                  scope=Scope(whole_org=False, stores=frozenset({GUIDE_STORE})),
                                  at=runtime.clock.now())
            await session.commit()
            other = await session.scalar(select(Group.id).where(Group.store == "上海静安店")
                                         .order_by(Group.id).limit(1))
    finally:
        await runtime.close()
    assert other is not None
    return result.password, other


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory,
              browser_available: None) -> Iterator[DemoSite]:
    workdir = tmp_path_factory.mktemp("demo-site")
    database = workdir / "qunyun.db"
    password, other = run_in_thread(lambda: _prepare_demo(database))
    server = ServeProcess(database, workdir).start()
    try:
        yield DemoSite(server.base_url, password, other)
    finally:
        server.stop()


# --- the playground with a bot that answers -----------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlaygroundSite:
    base_url: str
    group_id: int


OWNER = "pg-owner"


async def _prepare_playground(runtime: Runtime, ids: dict[str, int]) -> None:
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        org = await do_create_organization(session, name="试玩品牌", slug="pgtest", at=now)
        community = await do_create_community(session, org_id=org.id, name="试玩社群", at=now)
        group = await do_create_group(session, org_id=org.id, platform="playground",
                                      platform_id="pg-browser", name="上海静安店·试玩群",
                                      at=now, community_id=community.id, purpose="member",
                                      store="上海静安店")
        await do_create_staff(session, principal=cli_principal(org.id), username=OWNER,
                              password=PASSWORD, role="owner", scope=Scope(), at=now)
        await session.commit()
    ids["group"] = group.id


@pytest.fixture(scope="session")
def playground_site(tmp_path_factory: pytest.TempPathFactory,
                    browser_available: None) -> Iterator[PlaygroundSite]:
    workdir = tmp_path_factory.mktemp("playground-site")
    config = Config(data_dir=workdir, database_url=sqlite_url(workdir / "qunyun.db"))
    ids: dict[str, int] = {}
    server = ThreadServer(config, FeatureRegistry([*builtin_features(), playground_bot()]),
                          lambda runtime: _prepare_playground(runtime, ids)).start()
    try:
        yield PlaygroundSite(server.base_url, ids["group"])
    finally:
        server.stop()
