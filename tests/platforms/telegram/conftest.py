from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from qunyun.platforms.telegram import BotApi
from qunyun.platforms.telegram.fake_server import FakeBotApi

FAKE_URL = "http://fake-telegram"


@pytest.fixture
def fake() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
async def api(fake: FakeBotApi) -> AsyncIterator[BotApi]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app))
    yield BotApi(fake.token, base_url=FAKE_URL, client=client)
    await client.aclose()
