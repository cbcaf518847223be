"""The playground chat in Chromium: a member types, the bot's reply appears without a reload;
deletes, mutes and kicks show live; the page works on a phone."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from tests.browser.conftest import OWNER, PASSWORD, PlaygroundSite, screenshot, sign_in

pytestmark = pytest.mark.browser

# Records when a message is sent and when each bot reply appears, by the page's own clock.
WATCH = """() => {
  window.__qy = {sent: [], replies: [], loaded: true};
  document.body.addEventListener('htmx:beforeRequest', e => {
    if (e.detail.elt.id === 'pg-compose') window.__qy.sent.push(performance.now());
  });
  new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(n => {
    if (n.classList && n.classList.contains('pg-bot')) window.__qy.replies.push(performance.now());
  }))).observe(document.getElementById('pg-feed'), {childList: true});
}"""


def open_chat(page: Any, site: PlaygroundSite) -> None:
    sign_in(page, site.base_url, OWNER, PASSWORD)
    page.goto(f"{site.base_url}/playground/{site.group_id}")
    page.wait_for_selector("#pg-live[data-state=live]")


def add_member(page: Any, name: str) -> None:
    page.fill("#pg-new-name", name)
    page.click("#pg-add-member button[type=submit]")
    page.wait_for_function("name => [...document.querySelectorAll('#pg-member option')]"
                           ".some(o => o.selected && o.textContent.trim() === name)", arg=name)


def send(page: Any, text: str) -> None:
    page.fill("#pg-text", text)
    page.click("#pg-send")


def test_a_member_types_and_the_bot_answers_live(page: Any,
                                                 playground_site: PlaygroundSite) -> None:
    sign_in(page, playground_site.base_url, OWNER, PASSWORD)
    page.goto(f"{playground_site.base_url}/playground")
    screenshot(page, "playground-list")
    page.click(".pg-group-link")
    page.wait_for_selector("#pg-live[data-state=live]")
    add_member(page, "小林")
    page.evaluate(WATCH)
    latencies = []
    for n in range(1, 6):
        send(page, f"你好 {n}")
        page.wait_for_function("n => window.__qy.replies.length >= n", arg=n)
        page.wait_for_selector(f".pg-bot:has-text('收到：你好 {n}')")
        timings = page.evaluate("() => window.__qy")
        latencies.append(timings["replies"][-1] - timings["sent"][-1])
    assert page.evaluate("window.__qy.loaded") is True  # the same page: no reload
    assert page.input_value("#pg-text") == ""
    assert page.locator(".pg-msg .pg-text", has_text="你好 5").count() == 1
    print(f"\nbot reply visible after sending (ms): {[round(x) for x in latencies]}, "
          f"median {statistics.median(latencies):.0f}")
    screenshot(page, "playground-chat", full_page=False)


def test_delete_mute_and_kick_show_live(page: Any, playground_site: PlaygroundSite) -> None:
    open_chat(page, playground_site)
    add_member(page, "广告哥")
    page.evaluate("window.__stayed = true")
    send(page, "spam 加我微信领红包")
    page.wait_for_selector(".pg-msg.pg-deleted:has-text('加我微信领红包')")
    page.wait_for_selector(".pg-notice[data-effect=mute]")
    assert page.is_disabled("#pg-text") and page.is_disabled("#pg-send")
    assert page.locator("#pg-muted-note").is_visible()
    screenshot(page, "playground-muted", full_page=False)

    add_member(page, "捣乱者")  # a new member may speak
    assert page.is_enabled("#pg-text")
    kicked = page.input_value("#pg-member")
    send(page, "kick me")
    page.wait_for_selector(".pg-notice[data-effect=leave]")
    page.wait_for_function("id => !document.querySelector(`#pg-member option[value='${id}']`)",
                           arg=kicked)
    assert page.evaluate("window.__stayed") is True
    screenshot(page, "playground-kicked", full_page=False)


def test_the_chat_on_a_phone(phone: Any, playground_site: PlaygroundSite) -> None:
    open_chat(phone, playground_site)
    add_member(phone, "手机用户")
    send(phone, "在手机上试试")
    phone.wait_for_selector(".pg-bot:has-text('收到：在手机上试试')")
    box = phone.locator("#pg-send").bounding_box()
    text_box = phone.locator("#pg-text").bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    assert text_box is not None and text_box["height"] >= 44
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    screenshot(phone, "playground-phone", full_page=False)
    phone.fill("#pg-new-name", "")
    phone.click("#pg-add-member button[type=submit]")  # no name: the form says so
    phone.wait_for_selector("#pg-add-member .field-error")
    phone.locator("#pg-add-member").scroll_into_view_if_needed()
    screenshot(phone, "playground-phone-form-error", full_page=False)
