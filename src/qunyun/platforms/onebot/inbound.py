"""Events from one OneBot connection into qunyun, in batches, with an account of every payload.

A frame is read, translated and queued; `drain` hands the queued canonical events to the sink
(the pipeline's ingest) in batches of up to `batch_size`, one unit of work each. A payload that
cannot be read, or that the pipeline rejects, is counted and kept (the latest ones) with its
reason; the connection goes on. The queue is bounded, so a slow pipeline slows the socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from qunyun.platforms.onebot.translate import Ignored, Malformed, translate

log = logging.getLogger(__name__)

# Canonical events in, (status, reason) per event out: accepted, duplicate or rejected.
Sink = Callable[[list[dict[str, Any]]], Awaitable[list[tuple[str, str | None]]]]
QUEUE_EVENTS = 10_000
KEPT_REJECTIONS = 50


@dataclass
class InboundStats:
    frames: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    ignored: int = 0
    rejections: deque[dict[str, str]] = field(
        default_factory=lambda: deque(maxlen=KEPT_REJECTIONS))

    def reject(self, reason: str, excerpt: str) -> None:
        self.rejected += 1
        self.rejections.append({"reason": reason, "payload": excerpt[:300]})
        log.warning("OneBot payload rejected: %s", reason)

    def as_dict(self) -> dict[str, Any]:
        return {"frames": self.frames, "accepted": self.accepted, "duplicate": self.duplicate,
                "rejected": self.rejected, "ignored": self.ignored,
                "rejections": list(self.rejections)}


def decode(raw: str | bytes) -> Any:
    """A frame's JSON; Malformed if it is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Malformed(f"not JSON: {exc}") from exc


class Inbound:
    def __init__(self, sink: Sink, batch_size: int = 1000) -> None:
        self._sink = sink
        self.batch_size = batch_size
        self.stats = InboundStats()
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_EVENTS)
        # Called with each readable event's payload (routing: which bot serves which group).
        self.on_payload: Callable[[dict[str, Any]], None] | None = None
        # Set after every batch stored (for whoever waits for the flow to settle).
        self.progress = asyncio.Event()

    def events_of(self, payload: Any, excerpt: str) -> list[dict[str, Any]]:
        """Translate one payload, accounting for it; [] when rejected or ignored."""
        self.stats.frames += 1
        try:
            events = translate(payload)
        except Malformed as exc:
            self.stats.reject(str(exc), excerpt)
            return []
        except Ignored:
            self.stats.ignored += 1
            return []
        if self.on_payload is not None and isinstance(payload, dict):
            self.on_payload(payload)
        return events

    async def enqueue(self, payload: Any, excerpt: str) -> None:
        for event in self.events_of(payload, excerpt):
            await self._queue.put(event)

    async def ingest(self, events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        """Hand events to the sink now (HTTP POST answers once they are durable)."""
        if not events:
            return []
        results = await self._sink(events)
        for event, (status, reason) in zip(events, results, strict=True):
            if status == "accepted":
                self.stats.accepted += 1
            elif status == "duplicate":
                self.stats.duplicate += 1
            else:
                self.stats.reject(reason or "rejected", orjson.dumps(event).decode())
        self.progress.set()
        return results

    def settled(self) -> int:
        """Events taken in so far, whatever became of them."""
        return self.stats.accepted + self.stats.duplicate + self.stats.rejected

    async def drain(self, stop: asyncio.Event) -> None:
        """Ingest queued events in batches until `stop` is set and the queue is empty."""
        while not (stop.is_set() and self._queue.empty()):
            getter = asyncio.ensure_future(self._queue.get())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not getter.done():
                getter.cancel()
                continue
            batch = [getter.result()]
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self.ingest(batch)
            except Exception:
                log.exception("OneBot batch of %d events could not be stored; retrying",
                              len(batch))
                await self._requeue(batch, stop)

    async def _requeue(self, batch: list[dict[str, Any]], stop: asyncio.Event) -> None:
        """A failed store (the database away): wait, then try the same batch again."""
        while not stop.is_set():
            await asyncio.sleep(1.0)
            try:
                await self.ingest(batch)
                return
            except Exception:
                log.exception("OneBot batch still cannot be stored")

    def pending(self) -> int:
        return self._queue.qsize()
