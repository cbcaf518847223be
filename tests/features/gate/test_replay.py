"""A history with every kind of gate decision, fed live (with the clock ticking) and replayed
(`qunyun replay`: time follows the events, nothing delivered), gives the same decisions and the
same member numbers."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from qunyun.app.replay import read_lines, replay_into
from qunyun.community.models import Membership, PlatformAccount
from qunyun.core.clock import ManualClock
from qunyun.features.gate.models import JoinRequest
from qunyun.pipeline.models import ActionRecord
from tests import factories as f
from tests.features.gate.conftest import Gate, make_gate
from tests.features.welcome.conftest import twin_url

__all__ = ["twin_url"]
SETTINGS: dict[str, Any] = {"mode": "paid", "price_cents": 1000, "numbering": True,
                            "timeout_hours": 1}


def history() -> list[dict[str, Any]]:
    return [
        f.event("member.join_requested", member="a", request_id="r1", name="甲", id="h1"),
        f.event("payment.completed", group=None, member="a", minutes=5, order_id="o1",
                amount_cents=1000, currency="CNY", id="h2"),
        f.joined("a", minutes=6, via="approval", id="h3"),
        f.event("member.join_requested", member="b", request_id="r2", name="乙", minutes=10,
                id="h4"),
        f.joined("c", minutes=20, id="h5"),  # let in without a request: must pay or leave
        f.message("a", "还在吗", minutes=200, id="h6"),  # time passes: both time out
    ]


async def outcome(gate: Gate) -> tuple[list[tuple[str, str, str]], dict[str, int | None]]:
    async with gate.rt.sessions() as session:
        requests = [(r.request_id, r.status, r.rule) for r in
                    await session.scalars(select(JoinRequest).order_by(JoinRequest.id))]
        rows = await session.execute(
            select(PlatformAccount.platform_user_id, Membership.member_no)
            .join(Membership, Membership.person_id == PlatformAccount.person_id)
            .where(Membership.status == "active"))
        return requests, {user: number for user, number in rows}


async def actions_of(gate: Gate) -> list[tuple[str, str, str | None]]:
    async with gate.rt.sessions() as session:
        rows = await session.scalars(select(ActionRecord).where(ActionRecord.feature == "gate")
                                     .order_by(ActionRecord.seq))
        return [(r.id, r.type, r.member_pid) for r in rows]


async def test_live_and_replay_agree(database_url: str, twin_url: str, tmp_path: Path,
                                     clock: ManualClock) -> None:
    live = await make_gate(database_url, tmp_path / "live", clock)
    try:
        await live.configure(**SETTINGS)
        for raw in history():
            clock.set(datetime.fromisoformat(raw["at"]))
            await live.rt.pipeline.tick(clock.now())
            await live.send(raw)
        expected = await outcome(live)
    finally:
        await live.rt.close()
    assert expected == ([("r1", "approved", "payment"), ("r2", "expired", "timeout"),
                         ("join:h5", "expired", "timeout")], {"a": 1, "c": None})

    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in history()) + "\n")
    replayed = await make_gate(twin_url, tmp_path / "replay", None, replay=True)
    try:
        await replayed.configure(**SETTINGS)
        await replay_into(replayed.rt, replayed.org, read_lines(path))
        assert await outcome(replayed) == expected
        assert [t for _, t, _ in await actions_of(replayed)] == [
            "message.send_private", "join.approve", "message.send_private",
            "message.send_private", "message.send_private", "join.reject",
            "message.send_private", "member.kick", "message.send_private"]
    finally:
        await replayed.rt.close()
