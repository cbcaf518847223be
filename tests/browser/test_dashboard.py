"""The dashboard in Chromium, against `qunyun serve` on the demo: sign-in, overview filters,
a group's charts, a guide refused another store's group, the language switch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import GUIDE, PASSWORD, DemoSite, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_sign_in(page: Any, demo_site: DemoSite) -> None:
    sign_in(page, demo_site.base_url, "demo", "wrong password")
    assert page.locator("#login-error").is_visible()
    screenshot(page, "login-refused")
    sign_in(page, demo_site.base_url, "demo", demo_site.password, shot="login")
    page.wait_for_url("**/overview")
    assert page.locator(".groups-table tbody tr").count() == 9
    page.wait_for_function("() => document.querySelector('[data-chart-src]')?.dataset.rendered")
    screenshot(page, "overview")


def result_rows(page: Any) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        ".groups-table tbody tr",
        """rows => rows.map(r => ({purpose: r.querySelector('.col-purpose').textContent.trim(),
                                  store: r.querySelector('.col-store').textContent.trim()}))""")
    return rows


def choose(page: Any, name: str, value: str) -> None:
    """Pick a filter and wait until HTMX has swapped in the new results (no page load)."""
    page.evaluate("document.querySelector('.groups-table').dataset.old = '1'")
    page.select_option(f"#overview-filters select[name={name}]", value)
    page.wait_for_function("() => document.querySelector('.groups-table')"
                           " && !document.querySelector('.groups-table[data-old]')")


def test_overview_filters_narrow_the_list(page: Any, demo_site: DemoSite) -> None:
    sign_in(page, demo_site.base_url, "demo", demo_site.password)
    page.wait_for_url("**/overview")
    everything = result_rows(page)
    page.evaluate("window.__stayed = true")
    choose(page, "purpose", "member")
    members_only = result_rows(page)
    assert 0 < len(members_only) < len(everything)
    assert len({row["purpose"] for row in members_only}) == 1
    choose(page, "store", "北京朝阳店")
    narrower = result_rows(page)
    assert 0 < len(narrower) < len(members_only)
    assert {row["store"] for row in narrower} == {"北京朝阳店"}
    assert page.evaluate("window.__stayed") is True  # filtered in place, no reload
    assert "purpose=member" in page.url and "store=" in page.url
    screenshot(page, "overview-filtered")


def test_a_group_page_draws_its_charts(page: Any, demo_site: DemoSite) -> None:
    sign_in(page, demo_site.base_url, "demo", demo_site.password)
    page.click(".groups-table tbody tr:first-child .col-name a")
    page.wait_for_url("**/groups/*")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart-src]')].every(e => e.dataset.rendered)")
    charts = page.eval_on_selector_all("[data-chart-src]", """elements => elements.map(e => ({
        canvas: !!e.querySelector('canvas'),
        points: echarts.getInstanceByDom(e).getOption().series[0].data.length,
        total: echarts.getInstanceByDom(e).getOption().series
                 .flatMap(s => s.data).reduce((a, b) => a + (Number(b) || 0), 0)}))""")
    assert len(charts) >= 3
    assert all(chart["canvas"] and chart["points"] > 0 for chart in charts)
    assert all(chart["total"] > 0 for chart in charts), charts
    screenshot(page, "group")


def test_a_guide_is_refused_another_stores_group(page: Any, demo_site: DemoSite) -> None:
    sign_in(page, demo_site.base_url, GUIDE, PASSWORD)
    page.wait_for_url("**/overview")
    stores = {row["store"] for row in result_rows(page)}
    assert stores == {"北京朝阳店"}
    screenshot(page, "overview-guide")
    response = page.goto(f"{demo_site.base_url}/groups/{demo_site.other_store_group}")
    assert response is not None and response.status == 403
    assert page.locator(".error-page").is_visible()
    screenshot(page, "forbidden")


def test_the_language_switch(page: Any, demo_site: DemoSite) -> None:
    sign_in(page, demo_site.base_url, "demo", demo_site.password)
    page.wait_for_url("**/overview")
    assert page.get_attribute("html", "lang") == "zh-CN"
    page.click(".lang-switch")
    page.wait_for_url("**/overview")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "Overview"
    screenshot(page, "overview-english")
    page.click(".lang-switch")
    page.wait_for_url("**/overview")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.locator(".lang-switch").inner_text() == "English"
