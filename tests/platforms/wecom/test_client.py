"""The API client against the fake server: token caching, expired tokens, quotas."""

from __future__ import annotations

import json

import pytest

from qunyun.platforms.wecom.client import QuotaExhausted, WecomApiError
from qunyun.platforms.wecom.quota import QuotaMeter
from tests.conftest import shared_data
from tests.platforms.wecom.conftest import CHAT, fake_client
from tests.platforms.wecom.fake_wecom import FakeWecom


def shared_group(fake: FakeWecom) -> None:
    body = json.loads(shared_data("wecom", "api_responses",
                                  "wechatpy_externalcontact_groupchat_get.json").read_text())
    chat = body["group_chat"]
    fake.add_group(chat["chat_id"], chat["name"], chat["owner"], chat["member_list"],
                   chat["notice"])


async def test_token_is_cached_until_it_nears_expiry(fake: FakeWecom) -> None:
    shared_group(fake)
    client = fake_client(fake)
    for _ in range(5):
        await client.groupchat_get(CHAT)
    assert client.token_fetches == 1
    fake.now += 7200 - 299  # inside the refresh margin
    await client.groupchat_get(CHAT)
    assert client.token_fetches == 2
    await client.close()


@pytest.mark.parametrize(("spoil", "code"), [("expire_tokens", 42001),
                                             ("revoke_tokens", 40014)])
async def test_expired_or_invalid_token_is_refreshed_once(fake: FakeWecom, spoil: str,
                                                          code: int) -> None:
    shared_group(fake)
    client = fake_client(fake)
    await client.groupchat_get(CHAT)
    getattr(fake, spoil)()
    chat = await client.groupchat_get(CHAT)
    assert chat["name"] == "销售客服群"
    assert fake.refused[code] == 1
    assert client.token_fetches == 2
    await client.close()


async def test_wrong_secret_is_an_api_error(fake: FakeWecom) -> None:
    fake.secret = "another"
    client = fake_client(fake)
    with pytest.raises(WecomApiError) as info:
        await client.groupchat_get(CHAT)
    assert info.value.errcode == 40001
    await client.close()


async def test_unknown_group_is_an_api_error(fake: FakeWecom) -> None:
    client = fake_client(fake)
    with pytest.raises(WecomApiError) as info:
        await client.groupchat_get("wrNOPE")
    assert info.value.errcode == 40058
    assert not info.value.retryable
    await client.close()


async def test_meter_keeps_below_the_server_quota(fake: FakeWecom) -> None:
    """The server allows 50 calls a minute; the client's meter spreads 120 calls over time
    (waiting on the fake clock) and the server never refuses one."""
    shared_group(fake)
    fake.per_minute = 50
    client = fake_client(fake, QuotaMeter(per_minute=50, per_hour=1000))
    client._max_wait = 120.0
    start = fake.now
    for _ in range(120):
        await client.groupchat_get(CHAT)
    assert fake.refused[45009] == 0
    assert fake.calls["/cgi-bin/externalcontact/groupchat/get"] == 120
    assert fake.now - start >= 120  # two full minutes had to pass
    await client.close()


async def test_long_wait_raises_quota_exhausted(fake: FakeWecom) -> None:
    shared_group(fake)
    client = fake_client(fake, QuotaMeter(per_minute=3, per_hour=1000))
    for _ in range(3):
        await client.groupchat_get(CHAT)
    with pytest.raises(QuotaExhausted) as info:
        await client.groupchat_get(CHAT)
    assert 0 < info.value.retry_after <= 60
    await client.close()


async def test_server_45009_is_retryable(fake: FakeWecom) -> None:
    """Another process of the same corp used the quota: the server refuses with 45009."""
    shared_group(fake)
    fake.per_minute = 2
    client = fake_client(fake)
    await client.groupchat_get(CHAT)
    await client.groupchat_get(CHAT)
    with pytest.raises(WecomApiError) as info:
        await client.groupchat_get(CHAT)
    assert info.value.errcode == 45009
    assert info.value.retryable
    await client.close()


async def test_hourly_window() -> None:
    meter = QuotaMeter(per_minute=10, per_hour=25)
    now = 0.0
    taken = 0
    while now < 3600:
        if meter.take("x", now) == 0:
            taken += 1
        now += 1
    assert taken == 25
    assert meter.used("x", 3599.0) == (0, 25)
    assert meter.take("x", 3599.0) == 1.0  # the call of second 0 leaves the hour at 3600
    assert meter.take("x", 3600.0) == 0


async def test_groupchat_list_follows_the_cursor(fake: FakeWecom) -> None:
    for index in range(5):
        fake.add_group(f"wr{index}", f"g{index}", "owner", [])
    client = fake_client(fake)
    assert await client.groupchat_ids(limit=2) == [f"wr{i}" for i in range(5)]
    assert fake.calls["/cgi-bin/externalcontact/groupchat/list"] == 3
    await client.close()
