"""`POST /bridge/events`: canonical events over HTTP (bridge protocol v1).

The body is a JSON array of events or JSON Lines. The answer comes once the accepted events are
durable, and says per event `accepted`, `duplicate` or `rejected` (with the reason). A line that
is not JSON is rejected on its own; a body with nothing readable is refused as a whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from qunyun.api.deps import BridgeCaller, Locale, RuntimeDep
from qunyun.api.errors import BadRequest, PayloadTooLarge
from qunyun.app.bootstrap import Runtime
from qunyun.core.errors import FieldError
from qunyun.core.i18n import N_, gettext
from qunyun.pipeline.runner import ACCEPTED, DUPLICATE, REJECTED, IngestResult

MAX_EVENTS = 10_000
CHUNK_SIZE = 1_000  # events per unit of work
MAX_BODY_MB = 64
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines")

router = APIRouter(tags=["bridge"])
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line of a JSON Lines body that is not JSON."""

    line: int
    reason: str


class IngestItemOut(BaseModel):
    index: int
    id: str | None
    status: str
    reason: str | None = None
    errors: list[dict[str, str]] | None = None


class IngestOut(BaseModel):
    results: list[IngestItemOut]
    accepted: int
    duplicate: int
    rejected: int


async def read_body(request: Request) -> bytes:
    limit = MAX_BODY_MB * 1024 * 1024
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(N_("the body is larger than {limit} MB"), limit=MAX_BODY_MB)
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise PayloadTooLarge(N_("the body is larger than {limit} MB"), limit=MAX_BODY_MB)
        parts.append(part)
    return b"".join(parts)


def parse_lines(body: bytes) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            items.append(BadLine(number, str(exc)))
    return items


def parse_body(body: bytes, content_type: str) -> list[Any]:
    """The events of a body: a JSON array, one JSON object, or JSON Lines."""
    if not body.strip():
        raise BadRequest(N_("the body is empty; send a JSON array of events or JSON Lines"))
    if content_type.split(";")[0].strip().lower() not in NDJSON_TYPES:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # not one JSON document: read it as JSON Lines
        else:
            if isinstance(value, list):
                return value
            if isinstance(value, dict):
                return [value]
            raise BadRequest(N_("the body must be a JSON array of events or JSON Lines"))
    items = parse_lines(body)
    if all(isinstance(item, BadLine) for item in items):
        first = items[0]
        raise BadRequest(
            N_("the body is neither a JSON array nor JSON Lines (line {line}: {reason})"),
            line=first.line, reason=first.reason)
    return items


def _bad_line(index: int, bad: BadLine) -> IngestResult:
    error = FieldError("", N_("line {line} is not valid JSON ({reason})"),
                       (("line", bad.line), ("reason", bad.reason)))
    return IngestResult(index, None, REJECTED, (error,))


def is_data_error(exc: DBAPIError) -> bool:
    """An error in the data itself (SQLSTATE classes 22, 23): storing it again fails again."""
    state = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", "") or "")
    return isinstance(exc, DataError | IntegrityError) or state[:2] in ("22", "23")


def _unstorable(raw: Any, exc: DBAPIError) -> IngestResult:
    detail = str(exc.orig).strip().splitlines()[0][:200] if exc.orig else type(exc).__name__
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    error = FieldError("", N_("the event could not be stored ({reason})"),
                       (("reason", detail),))
    return IngestResult(0, raw_id if isinstance(raw_id, str) else None, REJECTED, (error,))


async def ingest_isolating(runtime: Runtime, org_id: int, items: list[Any]
                           ) -> list[IngestResult]:
    """Ingest `items`; when the database refuses some event's data, find it by halving the
    batch, reject it alone and store the others. Other failures go up (the bridge retries)."""
    try:
        return await runtime.pipeline.ingest(org_id, items)
    except DBAPIError as exc:
        if not is_data_error(exc):
            raise
        if len(items) == 1:
            log.warning("event refused by the database: %s", exc.orig)
            return [_unstorable(items[0], exc)]
    half = len(items) // 2
    head = await ingest_isolating(runtime, org_id, items[:half])
    tail = await ingest_isolating(runtime, org_id, items[half:])
    return head + [replace(r, index=r.index + half) for r in tail]


async def ingest_all(runtime: Runtime, org_id: int, items: list[Any]) -> list[IngestResult]:
    """Ingest in units of work of CHUNK_SIZE events; results in the order of the body."""
    results = [_bad_line(i, item) for i, item in enumerate(items) if isinstance(item, BadLine)]
    good = [(i, item) for i, item in enumerate(items) if not isinstance(item, BadLine)]
    for start in range(0, len(good), CHUNK_SIZE):
        chunk = good[start:start + CHUNK_SIZE]
        answers = await ingest_isolating(runtime, org_id, [item for _, item in chunk])
        results += [replace(r, index=chunk[r.index][0]) for r in answers]
    return sorted(results, key=lambda r: r.index)


def render(result: IngestResult, locale: str) -> dict[str, Any]:
    body = result.as_dict(locale)
    if result.errors:  # each reason rendered on its own (it may contain ": " itself)
        body["errors"] = [{"path": e.path, "reason": gettext(e.reason, locale, **dict(e.params))}
                          for e in result.errors]
    return body


def answer(results: list[IngestResult], locale: str) -> dict[str, Any]:
    counts = {s: sum(1 for r in results if r.status == s) for s in (ACCEPTED, DUPLICATE, REJECTED)}
    return {"results": [render(r, locale) for r in results], **counts}


@router.post(
    "/bridge/events", response_model=IngestOut,
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        "application/x-ndjson": {"schema": {"type": "string"}},
    }}},
)
async def post_events(request: Request, caller: BridgeCaller, runtime: RuntimeDep,
                      locale: Locale) -> JSONResponse:
    """Events as a JSON array or JSON Lines, at most 10,000 per request."""
    items = parse_body(await read_body(request), request.headers.get("content-type", ""))
    if len(items) > MAX_EVENTS:
        raise PayloadTooLarge(
            N_("a request may carry at most {limit} events; this one has {count}"),
            limit=MAX_EVENTS, count=len(items))
    results = await ingest_all(runtime, caller.org_id, items)
    return JSONResponse(answer(results, locale))
