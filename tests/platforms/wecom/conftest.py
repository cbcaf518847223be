"""A WeCom connection on a real runtime, its API faked at protocol level."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from qunyun.app.bootstrap import Runtime
from qunyun.app.wecom import WecomConnector, connect
from qunyun.core.config import ConnectionConfig
from qunyun.platforms.wecom.client import WecomClient
from qunyun.platforms.wecom.quota import QuotaMeter
from tests.platforms.wecom.fake_wecom import API_BASE, FakeWecom

TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CORP_ID = "wx49f0ab532d5d035a"
SECRET = "contact-secret"
CHAT = "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"


def options(**overrides: Any) -> dict[str, Any]:
    return {"corp_id": CORP_ID, "token": TOKEN, "encoding_aes_key": AES_KEY, "secret": SECRET,
            "refetch_delay_s": 0, **overrides}


def fake_client(fake: FakeWecom, meter: QuotaMeter | None = None) -> WecomClient:
    return WecomClient(CORP_ID, SECRET, http=httpx.AsyncClient(transport=fake.transport()),
                       base_url=API_BASE, meter=meter, monotonic=fake.monotonic,
                       sleep=fake.sleep)


@pytest.fixture
def fake() -> FakeWecom:
    return FakeWecom(CORP_ID, SECRET)


@pytest.fixture
async def wecom(runtime: Runtime, org_id: int, fake: FakeWecom) -> AsyncIterator[WecomConnector]:
    connection = ConnectionConfig(platform="wecom", name="corp1", options=options())
    connector = connect(runtime, connection, client=fake_client(fake))
    yield connector
    await connector.drain()
    await connector.client.close()
