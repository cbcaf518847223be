"""`qunyun bench telegram`: messages delivered to Telegram at the rate its limits allow.

The real delivery loop (outbox → token buckets → adapter → HTTP) sends to the Bot API simulator,
which enforces Telegram's limits in exact sliding windows on its own clock and answers 429 when
one is broken. Everything runs in real time: nothing is accelerated unless `--time-scale` is
given (it shortens every window on both sides by the same factor; the figures then say so).
The allowed rate is the binding limit: min(30/s overall, groups × 20 per minute).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from sqlalchemy import func, select

from qunyun.app.bootstrap import build_runtime, ensure_default_org
from qunyun.cli.bench import backend, fresh_database, show
from qunyun.cli.common import JsonOption
from qunyun.cli.common import run as run_command
from qunyun.core.actions import SEND_MESSAGE, Action
from qunyun.core.config import Config, PlatformConfig, RateLimitConfig
from qunyun.core.i18n import gettext
from qunyun.pipeline.models import ActionRecord
from qunyun.pipeline.outbox import DONE, PENDING, Outbox, OutboxEntry
from qunyun.platforms.telegram import BotApi, TelegramPlatform
from qunyun.platforms.telegram.adapter import TELEGRAM_RATE_LIMITS
from qunyun.platforms.telegram.fake_server import FakeBotApi
from qunyun.platforms.telegram.guard import SendGuard, SendLimits, Window

TELEGRAM = SendLimits(margin=1.0)  # what Telegram enforces (the simulator's windows)


def scaled(limits: SendLimits, scale: float, margin: float) -> SendLimits:
    def w(window: Window) -> Window:
        return Window(window.count, window.seconds / scale)

    return SendLimits(w(limits.per_chat), w(limits.per_group), w(limits.overall), margin)


def delivery_limits(scale: float) -> PlatformConfig:
    platform, group = TELEGRAM_RATE_LIMITS.platform, TELEGRAM_RATE_LIMITS.group
    return PlatformConfig(
        platform=RateLimitConfig(rate=platform.rate * scale, burst=platform.burst),
        group=RateLimitConfig(rate=group.rate * scale, burst=group.burst))


def allowed_rate(groups: int, scale: float) -> float:
    overall = TELEGRAM.overall.count / TELEGRAM.overall.seconds
    per_group = TELEGRAM.per_group.count / TELEGRAM.per_group.seconds
    return min(overall, groups * per_group) * scale


async def _enqueue(runtime: Any, org_id: int, messages: int, groups: int) -> None:
    """`messages` sends, round-robin over `groups` groups, written to the outbox at once."""
    now = datetime.now(UTC)
    outbox = Outbox()
    for index in range(messages):
        group = f"-100{1_000_000 + index % groups}"
        action = Action(id=f"bench-{index:06d}", type=SEND_MESSAGE, platform="telegram",
                        group=group, member=None, caused_by=f"bench-{index}",
                        data={"text": f"message {index} to {group}"})
        outbox.add(OutboxEntry(action, org_id, None, "bench", now, PENDING, "zh_CN"))
    async with runtime.write_sessions() as session:
        await outbox.write(session)
        await session.commit()


async def _wait_done(runtime: Any, stop: asyncio.Event) -> int:
    """Wait until nothing is pending; returns how many were delivered."""
    while True:
        async with runtime.sessions() as session:
            counts = dict((await session.execute(
                select(ActionRecord.status, func.count()).group_by(ActionRecord.status))).all())
        if not counts.get(PENDING):
            stop.set()
            return int(counts.get(DONE, 0))
        await asyncio.sleep(0.5)


async def measure_telegram(messages: int = 2000, groups: int = 100, scale: float = 1.0,
                           server: str | None = None) -> dict[str, Any]:
    fake = FakeBotApi(limits=scaled(TELEGRAM, scale, 1.0))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app))
    with tempfile.TemporaryDirectory() as workdir:
        async with fresh_database(server, Path(workdir)) as url:
            config = Config(data_dir=Path(workdir), database_url=url,
                            platforms={"telegram": delivery_limits(scale)})
            runtime = await build_runtime(config)
            try:
                adapter = TelegramPlatform(
                    BotApi(fake.token, base_url="http://fake", client=client),
                    guard=SendGuard(scaled(TELEGRAM, scale, SendLimits().margin)))
                runtime.platforms["telegram"] = adapter
                org_id = await ensure_default_org(runtime.write_sessions, datetime.now(UTC))
                await _enqueue(runtime, org_id, messages, groups)
                stop = asyncio.Event()
                started = time.perf_counter()
                loop = asyncio.create_task(runtime.delivery.run_forever(stop, idle_s=0.5))
                done = await _wait_done(runtime, stop)
                elapsed = time.perf_counter() - started
                await loop
                async with runtime.sessions() as session:
                    retried = int(await session.scalar(
                        select(func.count()).select_from(ActionRecord)
                        .where(ActionRecord.attempts > 1)) or 0)
            finally:
                await runtime.close()
                await client.aclose()
    return _figures(fake, messages, groups, scale, server, done, retried, elapsed)


def _figures(fake: FakeBotApi, messages: int, groups: int, scale: float, server: str | None,
             done: int, retried: int, elapsed: float) -> dict[str, Any]:
    sent = fake.state.sent
    span = sent[-1].at - sent[0].at if len(sent) > 1 else 0.0
    achieved = (len(sent) - 1) / span if span > 0 else 0.0
    allowed = allowed_rate(groups, scale)
    return {
        "benchmark": "telegram-delivery", "backend": backend(server), "time_scale": scale,
        "messages": messages, "groups": groups, "delivered": done,
        "received_by_fake": len(sent), "responses_429": fake.state.refused_429,
        "actions_retried": retried, "seconds_first_to_last_send": round(span, 2),
        "seconds_total": round(elapsed, 2), "allowed_rate_per_s": round(allowed, 2),
        "achieved_rate_per_s": round(achieved, 2),
        "achieved_pct_of_allowed": round(100 * achieved / allowed, 1) if allowed else 0.0,
        "verified": done == messages == len(sent) and fake.state.refused_429 == 0,
    }


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("telegram")(bench_telegram)


def bench_telegram(
    messages: Annotated[int, typer.Option(help="Messages to send.", min=2)] = 2000,
    groups: Annotated[int, typer.Option(help="Groups they go to (round-robin).", min=1)] = 100,
    time_scale: Annotated[float, typer.Option(
        "--time-scale", help="Shorten every limit window by this factor (1 = real time).",
        min=1.0)] = 1.0,
    db: Annotated[str | None, typer.Option("--db", help="A PostgreSQL server URL.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Telegram delivery against the limit-enforcing Bot API simulator (real time: ~70 s)."""
    figures = run_command(lambda: measure_telegram(messages, groups, time_scale, db))
    show(gettext("Telegram delivery benchmark"), figures, as_json)
    if not figures["verified"]:
        raise typer.Exit(1)


def run(messages: int = 2000, groups: int = 100, time_scale: float = 1.0,
        db: str | None = None) -> dict[str, Any]:
    """The figures as a dict (for scripts and `qunyun bench platforms`)."""
    return asyncio.run(measure_telegram(messages, groups, time_scale, db))
