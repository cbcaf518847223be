"""POST /bridge/events: per-event answers, durability, JSON Lines, limits."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from qunyun.api import bridge_events
from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Group, Membership, Person
from qunyun.pipeline.models import EventRecord
from tests.api.conftest import post_events
from tests.factories import joined, message

URL = "/api/v1/bridge/events"


async def counts(runtime: Runtime) -> dict[str, int]:
    async with runtime.sessions() as session:
        return {table.__name__: int(await session.scalar(
            select(func.count()).select_from(table)) or 0)
            for table in (EventRecord, Group, Person, Membership)}


def mixed_batch() -> list[dict[str, Any]]:
    first = joined("u1", name="小王", id="ev-join")
    malformed = message("u-bad", group="g-bad", id="ev-bad")
    del malformed["data"]["kind"]
    malformed["at"] = "yesterday"
    return [first, message("u1", id="ev-msg"), dict(first), malformed]


async def test_mixed_batch_answers_per_event(client: httpx.AsyncClient, runtime: Runtime,
                                             bridge_headers: dict[str, str]) -> None:
    english = {**bridge_headers, "Accept-Language": "en"}
    body = await post_events(client, english, mixed_batch())

    assert [(r["index"], r["id"], r["status"]) for r in body["results"]] == [
        (0, "ev-join", "accepted"), (1, "ev-msg", "accepted"), (2, "ev-join", "duplicate"),
        (3, "ev-bad", "rejected")]
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 1, 1)
    rejected = body["results"][3]
    assert {e["path"] for e in rejected["errors"]} == {"data.kind", "at"}
    assert "data.kind: is required" in rejected["reason"]
    assert next(e for e in rejected["errors"] if e["path"] == "data.kind")["reason"] \
        == "is required"
    # The answer came after commit: a fresh session sees the accepted events, nothing else.
    assert await counts(runtime) == {"EventRecord": 2, "Group": 1, "Person": 1, "Membership": 1}
    async with runtime.sessions() as session:
        assert await session.scalar(select(Group.id).where(Group.platform_id == "g-bad")) is None


async def test_same_batch_again_is_all_duplicate(client: httpx.AsyncClient, runtime: Runtime,
                                                 bridge_headers: dict[str, str]) -> None:
    batch = mixed_batch()
    await post_events(client, bridge_headers, batch)
    before = await counts(runtime)

    body = await post_events(client, bridge_headers, batch)

    assert [r["status"] for r in body["results"]] == ["duplicate", "duplicate", "duplicate",
                                                      "rejected"]
    assert await counts(runtime) == before


async def test_json_lines(client: httpx.AsyncClient, runtime: Runtime,
                          bridge_headers: dict[str, str]) -> None:
    lines = [orjson.dumps(joined("u1", id="l1")), b"", b"{not json",
             orjson.dumps(message("u1", id="l2")) + b"\r"]
    response = await client.post(URL, content=b"\n".join(lines) + b"\n", headers={
        **bridge_headers, "Content-Type": "application/x-ndjson", "Accept-Language": "en"})

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["index"], r["id"], r["status"]) for r in results] == [
        (0, "l1", "accepted"), (1, None, "rejected"), (2, "l2", "accepted")]
    assert results[1]["reason"].startswith("line 3 is not valid JSON")
    assert (await counts(runtime))["EventRecord"] == 2


async def test_body_not_an_array_is_read_as_lines(client: httpx.AsyncClient,
                                                  bridge_headers: dict[str, str]) -> None:
    """Without the JSON Lines content type, a body that is not a JSON array is still read."""
    content = orjson.dumps(joined("u1")) + b"\n" + orjson.dumps(joined("u2"))
    response = await client.post(URL, content=content, headers={
        **bridge_headers, "Content-Type": "application/json"})
    assert response.json()["accepted"] == 2
    single = await client.post(URL, content=orjson.dumps(joined("u3")), headers=bridge_headers)
    assert single.json()["accepted"] == 1


@pytest.mark.parametrize("content", [b"", b"  \n ", b"hello\nworld", b"42", b'"text"'])
async def test_unreadable_body_is_refused(client: httpx.AsyncClient, runtime: Runtime,
                                          bridge_headers: dict[str, str], content: bytes) -> None:
    response = await client.post(URL, content=content, headers=bridge_headers)

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert response.json()["message"]
    assert (await counts(runtime))["EventRecord"] == 0


async def test_too_many_events_is_refused(client: httpx.AsyncClient, runtime: Runtime,
                                          bridge_headers: dict[str, str]) -> None:
    events = [joined(f"u{i}") for i in range(bridge_events.MAX_EVENTS + 1)]
    response = await client.post(URL, json=events, headers=bridge_headers)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "10000" in response.json()["message"]
    assert (await counts(runtime))["EventRecord"] == 0


async def test_large_bodies_are_ingested_in_chunks(
        client: httpx.AsyncClient, runtime: Runtime, bridge_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bridge_events, "CHUNK_SIZE", 2)
    calls: list[int] = []
    ingest = runtime.pipeline.ingest

    async def counting_ingest(org_id: int, items: Any) -> Any:
        calls.append(len(items))
        return await ingest(org_id, items)

    monkeypatch.setattr(runtime.pipeline, "ingest", counting_ingest)
    lines = [orjson.dumps(joined(f"u{i}", id=f"c{i}")) for i in range(5)]
    lines.insert(2, b"[oops")
    response = await client.post(URL, content=b"\n".join(lines), headers=bridge_headers)

    assert calls == [2, 2, 1]
    results = response.json()["results"]
    assert [(r["index"], r["id"], r["status"]) for r in results] == [
        (0, "c0", "accepted"), (1, "c1", "accepted"), (2, None, "rejected"),
        (3, "c2", "accepted"), (4, "c3", "accepted"), (5, "c4", "accepted")]


async def test_events_need_a_bridge_token(client: httpx.AsyncClient,
                                          api_headers: dict[str, str]) -> None:
    assert (await client.post(URL, json=[joined()])).status_code == 401
    assert (await client.post(URL, json=[joined()], headers=api_headers)).status_code == 403
    bad = {"Authorization": "Bearer qyb_nope"}
    assert (await client.post(URL, json=[joined()], headers=bad)).status_code == 401


async def test_an_event_the_database_refuses_is_rejected_alone(
        client: httpx.AsyncClient, runtime: Runtime, bridge_headers: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    ingest = runtime.pipeline.ingest
    calls: list[int] = []

    async def picky_ingest(org_id: int, items: Any) -> Any:
        calls.append(len(items))
        if any(item.get("id") == "poison" for item in items):
            raise DataError("INSERT …", {}, Exception("value too long for type varchar(32)"))
        return await ingest(org_id, items)

    monkeypatch.setattr(runtime.pipeline, "ingest", picky_ingest)
    batch = [joined(f"u{i}", id=f"p{i}") for i in range(7)]
    batch.insert(5, joined("u-poison", id="poison"))
    body = await post_events(client, {**bridge_headers, "Accept-Language": "en"}, batch)

    assert [r["status"] for r in body["results"]] == ["accepted"] * 5 + ["rejected"] + \
        ["accepted"] * 2
    assert body["results"][5]["id"] == "poison"
    assert body["results"][5]["reason"] == \
        "the event could not be stored (value too long for type varchar(32))"
    assert len(calls) < len(batch) + 2  # found by halving, not one by one
    assert (await counts(runtime))["EventRecord"] == 7


async def test_an_oversized_value_does_not_block_the_batch(
        client: httpx.AsyncClient, runtime: Runtime, database_url: str,
        bridge_headers: dict[str, str]) -> None:
    long_platform = joined("u2", platform="p" * 40, id="long")
    english = {**bridge_headers, "Accept-Language": "en"}
    body = await post_events(client, english, [joined("u1"), long_platform])

    assert body["results"][0]["status"] == "accepted"
    # Validation knows the stored sizes, so the database never sees the oversized value.
    assert body["results"][1]["status"] == "rejected"
    assert body["results"][1]["errors"][0]["path"] == "platform"
