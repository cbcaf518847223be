"""Kill -9 in the middle of ingestion: what was acknowledged survives, retries are harmless.

A real server (`python -m qunyun serve`) takes concurrent batches from a bridge and is killed
with SIGKILL mid-way; restarted, it receives every batch again (a bridge retries what it did not
see acknowledged). Then every event is in the log exactly once, and the rollups and memberships
equal those of a clean run of the same batches.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from qunyun.app.bootstrap import build_runtime, ensure_default_org
from qunyun.core.config import Config
from qunyun.db.engine import create_engine
from tests.factories import joined, left, message

BATCHES = 40
MEMBERS_PER_BATCH = 20  # five events each
GROUPS = 5
KILL_AFTER = 8  # acknowledged batches before the kill
STARTUP_S = 30.0

Batch = list[dict[str, Any]]


def make_batches() -> list[Batch]:
    """Batches with members of their own, so the order batches arrive in changes no count."""
    batches = []
    for b in range(BATCHES):
        events: Batch = []
        group = f"g{b % GROUPS}"
        for m in range(MEMBERS_PER_BATCH):
            user, start = f"b{b}-u{m}", b * 90 + m * 3
            events.append(joined(user, group=group, minutes=start, id=f"{user}-join"))
            events += [message(user, group=group, minutes=start + i, id=f"{user}-m{i}")
                       for i in range(1, 4)]
            last = left(user, group=group, minutes=start + 4, id=f"{user}-left") if m % 4 == 0 \
                else message(user, group=group, minutes=start + 4, id=f"{user}-m4")
            events.append(last)
        batches.append(events)
    return batches


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def qunyun(*args: str) -> list[str]:
    return [sys.executable, "-m", "qunyun", *args]


@contextmanager
def server(url: str, workdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    with (workdir / f"serve-{port}.log").open("wb") as log:
        process = subprocess.Popen(qunyun("serve", "--db", url, "--port", str(port)),
                                   cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process, f"http://127.0.0.1:{port}"
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


async def wait_ready(process: subprocess.Popen[bytes], base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(int(STARTUP_S / 0.1)):
            assert process.poll() is None, "the server exited during startup"
            try:
                if (await client.get("/api/v1/openapi.json")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail("the server did not start")


async def post_all(base: str, token: str, batches: list[Batch],
                   on_ack: Any = None) -> dict[int, dict[str, Any]]:
    """POST every batch, eight at a time; the answers that arrived, by batch number."""
    answers: dict[int, dict[str, Any]] = {}
    gate = asyncio.Semaphore(8)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:

        async def send(number: int, batch: Batch) -> None:
            async with gate:
                try:
                    response = await client.post("/api/v1/bridge/events", json=batch)
                except httpx.TransportError:
                    return  # killed: this batch was not acknowledged
            assert response.status_code == 200, response.text
            answers[number] = response.json()
            if on_ack is not None:
                on_ack(len(answers))

        await asyncio.gather(*(send(n, b) for n, b in enumerate(batches)))
    return answers


async def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(sql))]
    finally:
        await engine.dispose()


async def logged_ids(url: str) -> dict[str, int]:
    rows = await query(url, "SELECT external_id, COUNT(*) FROM events GROUP BY external_id")
    return {external_id: int(n) for external_id, n in rows}


async def summary(url: str) -> dict[str, Any]:
    """What a run leaves behind, independent of ids and of the order batches arrived in."""
    stats = await query(url, "SELECT g.platform_id, s.day, s.joins, s.leaves, s.messages, "
                             "s.speakers, s.first_messages FROM stats_daily s "
                             "JOIN groups g ON g.id = s.group_id")
    members = await query(url, "SELECT g.platform_id, m.status, COUNT(*), SUM(m.message_count) "
                               "FROM memberships m JOIN groups g ON g.id = m.group_id "
                               "GROUP BY g.platform_id, m.status")
    persons = await query(url, "SELECT COUNT(*) FROM persons")
    return {"stats": sorted((p, str(d), *map(int, n)) for p, d, *n in stats),
            "memberships": sorted((p, s, int(c), int(n)) for p, s, c, n in members),
            "persons": persons[0][0]}


async def clean_run(tmp_path: Path, batches: list[Batch]) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'clean.db'}"
    runtime = await build_runtime(Config(data_dir=tmp_path / "clean", database_url=url))
    try:
        org_id = await ensure_default_org(runtime.sessions, runtime.clock.now())
        for batch in batches:
            await runtime.pipeline.ingest(org_id, batch)
    finally:
        await runtime.close()
    return await summary(url)


@pytest.mark.slow
async def test_sigkill_mid_ingest_loses_and_doubles_nothing(database_url: str,
                                                            tmp_path: Path) -> None:
    batches = make_batches()
    created = await asyncio.to_thread(
        subprocess.run, qunyun("token", "create", "--kind", "bridge", "--name", "crash",
                               "--db", database_url),
        cwd=tmp_path, capture_output=True, check=True)
    token = created.stdout.decode().strip()

    with server(database_url, tmp_path) as (process, base):
        await wait_ready(process, base)

        def kill_when_enough(acknowledged: int) -> None:
            if acknowledged == KILL_AFTER:
                os.kill(process.pid, signal.SIGKILL)

        first = await post_all(base, token, batches, kill_when_enough)
    assert process.returncode == -signal.SIGKILL
    assert KILL_AFTER <= len(first) < BATCHES

    accepted = [r["id"] for answer in first.values() for r in answer["results"]
                if r["status"] == "accepted"]
    logged = await logged_ids(database_url)
    assert all(logged.get(event_id) == 1 for event_id in accepted)

    with server(database_url, tmp_path) as (process, base):
        await wait_ready(process, base)
        second = await post_all(base, token, batches)
    assert sorted(second) == list(range(BATCHES))
    for number in first:
        assert {r["status"] for r in second[number]["results"]} == {"duplicate"}
    assert all(second[n]["rejected"] == 0 for n in second)

    logged = await logged_ids(database_url)
    assert logged == {e["id"]: 1 for batch in batches for e in batch}
    assert await summary(database_url) == await clean_run(tmp_path, batches)
