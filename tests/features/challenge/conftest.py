"""Fixtures of the challenge tests: the chat of the red packet tests, with `challenge` on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from qunyun.core.clock import ManualClock
from qunyun.features.challenge import service
from qunyun.features.challenge.plugin import FEATURE
from tests.conftest import START
from tests.features.redpacket.conftest import Chat, make_chat

DAY = 24 * 60  # minutes
FIRST_DAY = date(2026, 11, 22)  # START is 08:00 on this day in Shanghai


@pytest.fixture
async def chat(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Chat]:
    made = await make_chat(database_url, tmp_path / "data", clock, FEATURE)
    made.feature = "challenge"
    await made.enable()
    await made.speak_english()
    await made.join("anchor")  # the group and the default community exist from here on
    yield made
    await made.rt.close()


async def add_challenge(chat: Chat, **values: Any) -> int:
    spec = service.ChallengeSpec(**{
        "name": "21天早起", "start_day": FIRST_DAY, "end_day": date(2026, 11, 28),
        "keyword": service.DEFAULT_KEYWORD, "daily_points": 5, **values})
    async with chat.rt.sessions() as session:
        challenge = await service.do_create_challenge(
            session, org_id=chat.org, community_id=await chat.community(), spec=spec,
            actor="staff:test", at=START)
        await session.commit()
        return challenge.id
