"""The warehouse sink: records are validated, written in batches, and committed only once written.

The sink is a service of the Faust app with its own aiokafka consumer (group `<app id>-sink`): it
fetches whole batches (getmany, by size and time) and commits their offsets after the write.
Records are the one high-volume topic, and a Faust stream delivers at most ~8,500 events/s here
(it switches tasks per event; measured with a bare agent), while getmany hands over ~280,000
messages/s. Faust's `take_events` also acks a batch when the body raises or is cancelled, which
would commit records that never landed; a plain consumer commits exactly what was written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson
from prometheus_client import Histogram

from agents.topics import dlq_topic
from models_store import ModelStoreError
from warehouse.validation import RecordError, parse_records

logger = logging.getLogger(__name__)


STATS = ("landed", "duplicates", "dead_lettered", "batches")  # the sink's counters (BatchWriter.stats)


def write_seconds_histogram() -> Histogram:
    # Not in the global registry: GET /metrics (web/metrics.py) exposes it with this worker's other metrics.
    return Histogram(
        "cardiosynth_sink_batch_write_seconds",
        "Seconds to validate and store one sink batch, retries of a failed write included.",
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0), registry=None,
    )


@dataclass(frozen=True)
class SinkMessage:
    key: bytes | None
    value: bytes | None
    topic: str
    partition: int
    offset: int


class BatchWriter:
    """Turns a batch of messages into warehouse rows; invalid ones go to the dead-letter topic."""

    def __init__(self, worker):
        self.worker = worker
        self.outage = Outage()
        self._model_columns: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
        self.stats = dict.fromkeys(STATS, 0)
        self.write_seconds = write_seconds_histogram()

    def model_columns(self, name: str, version: int) -> dict[str, dict[str, Any]] | None:
        key = (name, version)
        if key not in self._model_columns:
            try:
                manifest = self.worker.store.manifest(name, version)
            except (ModelStoreError, OSError, ValueError):
                return None  # not cached: the model may appear later
            self._model_columns[key] = {c["name"]: c for c in manifest["columns"]}
        return self._model_columns[key]

    def prepare(self, messages: list[SinkMessage], columns: dict[str, str]):
        """(rows to write, (message, reason) rejected); CPU work, run off the event loop."""
        ingested_at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
        rows, rejected, seen = [], [], set()
        # checked a column at a time over the batch; a rejected record keeps parse_record's reason
        parsed = parse_records([message.value for message in messages], columns, self.model_columns)
        for message, record in zip(messages, parsed):
            if isinstance(record, RecordError):
                rejected.append((message, str(record)))
                continue
            if record["record_id"] in seen:
                continue
            seen.add(record["record_id"])
            record.update(ingested_at=ingested_at, kafka_topic=message.topic,
                          kafka_partition=message.partition, kafka_offset=message.offset)
            rows.append(record)
        return rows, rejected

    async def write(self, messages: list[SinkMessage]) -> Landing:
        """Validate and store a batch; returns, once every valid record is in the warehouse, what landed."""
        started = time.perf_counter()
        # parsing 5,000 records takes ~0.1 s: in a thread, so /health and the agents stay responsive
        rows, rejected = await asyncio.to_thread(self.prepare, messages, self.worker.writer.columns)
        for message, reason in rejected:
            await dead_letter(message, reason)
        self.stats["dead_lettered"] += len(rejected)
        inserted = await self.write_until_stored(rows)
        if inserted < len(rows):  # repeats: count only the rows whose stored copy came from their own message
            own = await self.stored_until_answered(rows)
            counted = [row for row in rows if row["record_id"] in own]
        else:
            counted = rows
        self.stats["landed"] += inserted
        self.stats["duplicates"] += len(messages) - len(rejected) - inserted
        self.stats["batches"] += 1
        self.write_seconds.observe(time.perf_counter() - started)
        # a loop over every row of the batch: off the event loop, like the parsing
        return await asyncio.to_thread(Landing.of, counted, rejected)

    async def write_until_stored(self, rows: list[dict[str, Any]]) -> int:
        """Write a batch, retrying with backoff while the warehouse is unavailable."""
        if not rows:
            return 0
        res = self.worker
        delay = 0.2
        while True:
            try:
                inserted = await res.warehouse(lambda writer, batch: writer.write(batch), rows)
            except Exception as exc:  # every failure is retried: nothing is acknowledged before it is stored
                # writers mask their secrets in their errors (SnowflakeSession.redact); DuckDB's name a path
                res.warehouse_error = str(exc)
                self.outage.failed(str(exc))
                logger.warning("warehouse write of %d rows failed (attempt %d), retrying in %.1fs: %s",
                               len(rows), self.outage.failed_attempts, delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, res.settings.sink_retry_max_seconds)
                continue
            if self.outage.since is not None:
                logger.info("warehouse back after %d failed attempts (down since %s)", self.outage.failed_attempts,
                            self.outage.since)
            res.warehouse_error = None
            self.outage.recovered()
            return inserted

    async def stored_until_answered(self, rows: list[dict[str, Any]]) -> set[str]:
        """Writer.stored_from for a written batch, retried like the write while the warehouse is unavailable."""
        res = self.worker
        delay = 0.2
        while True:
            try:
                return await res.warehouse(lambda writer, batch: writer.stored_from(batch), rows)
            except Exception as exc:  # the batch is stored; it is committed once its landing is known
                logger.warning("reading back the origin of %d repeated rows failed, retrying in %.1fs: %s",
                               len(rows), delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, res.settings.sink_retry_max_seconds)


class Landing:
    """What one batch did to each request, for the status topic: the offsets, per records-topic partition, of
    the messages whose record is now stored from that message ("landed") or that were dead-lettered
    ("rejected"), as [first, after-last) ranges.

    The status view counts an offset once (agents.status.apply_landing): a batch written again after a
    crash between its write and its commit, or by the next owner of its partition, reports the same
    offsets, since whether a stored row came from a message is a fact of the table once the write returned.
    Repeats of a record another message stored first are in neither list.
    """

    def __init__(self):
        self.offsets: dict[str, dict[str, dict[int, list[int]]]] = {}  # request -> kind -> partition -> offsets

    @classmethod
    def of(cls, counted: list[dict[str, Any]], rejected: list[tuple[SinkMessage, str]]) -> Landing:
        """The landing of a batch: its rows stored from their own message, and its dead-lettered messages."""
        landing = cls()
        for row in counted:
            landing.add("landed", row["request_id"], row["kafka_partition"], row["kafka_offset"])
        for message, _ in rejected:
            request_id = request_of(message.value)
            if request_id is not None:
                landing.add("rejected", request_id, message.partition, message.offset)
        return landing

    def add(self, kind: str, request_id: str, partition: int, offset: int) -> None:
        kinds = self.offsets.setdefault(request_id, {})
        kinds.setdefault(kind, {}).setdefault(partition, []).append(offset)

    def updates(self) -> dict[str, dict[str, dict[str, list[list[int]]]]]:
        """Per request: {"landed"|"rejected": {partition (str): [[first, after-last], ...]}}."""
        return {request_id: {kind: {str(p): offset_ranges(offsets) for p, offsets in partitions.items()}
                             for kind, partitions in kinds.items()}
                for request_id, kinds in self.offsets.items()}


def offset_ranges(offsets: list[int]) -> list[list[int]]:
    """Offsets as [first, after-last) ranges of consecutive offsets."""
    ranges: list[list[int]] = []
    for offset in sorted(offsets):
        if ranges and ranges[-1][1] == offset:
            ranges[-1][1] = offset + 1
        else:
            ranges.append([offset, offset + 1])
    return ranges


def request_of(raw: bytes | None) -> str | None:
    """The request_id of a rejected record, when it has a readable one."""
    try:
        request_id = orjson.loads(raw).get("request_id")
    except (orjson.JSONDecodeError, TypeError, AttributeError):
        return None
    return request_id if isinstance(request_id, str) and 0 < len(request_id) <= 128 else None


async def dead_letter(message: SinkMessage, reason: str) -> None:
    await dlq_topic.send(key=message.key, value=message.value, headers={
        "error": reason.encode()[:4096],
        "source_topic": message.topic.encode(),
        "source_partition": str(message.partition).encode(),
        "source_offset": str(message.offset).encode(),
    })


class Outage:
    """The sink's view of the warehouse: since when writes fail, how often they were retried, the last error."""

    def __init__(self):
        self.since: str | None = None
        self.failed_attempts = 0  # of the batch being written now
        self.last_error: str | None = None  # kept after recovery: what the last outage was
        self.retries_total = 0
        self.outages_total = 0
        self.last_write_at: str | None = None

    def failed(self, error: str) -> None:
        if self.since is None:
            self.since, self.failed_attempts = _now(), 0
            self.outages_total += 1
        self.failed_attempts += 1
        self.retries_total += 1
        self.last_error = error

    def recovered(self) -> None:
        self.since, self.failed_attempts, self.last_write_at = None, 0, _now()

    def report(self) -> dict[str, Any]:
        return {"down_since": self.since, "failed_attempts": self.failed_attempts, "last_error": self.last_error,
                "retries_total": self.retries_total, "outages_total": self.outages_total,
                "last_write_at": self.last_write_at}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
