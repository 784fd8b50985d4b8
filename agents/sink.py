"""The warehouse sink: records are written in batches, and acknowledged only once written."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Any

from agents.control import dead_letter
from agents.topics import dlq_topic, records_topic
from app import app
from models_store import ModelStoreError
from resources import get_resources
from warehouse.validation import RecordError, parse_record

logger = logging.getLogger(__name__)


class SinkBatch:
    """Events waiting to be written; flushed when full (by the agent) or old (by a timer)."""

    def __init__(self, stream=None):
        self.stream = stream
        self.events: list = []
        self.first_at = 0.0
        self.lock = asyncio.Lock()
        self.model_columns_cache: dict[tuple[str, int], dict[str, dict[str, Any]] | None] = {}
        self.stats = {"landed": 0, "duplicates": 0, "dead_lettered": 0, "batches": 0}

    def add(self, event) -> None:
        if not self.events:
            self.first_at = time.monotonic()
        self.events.append(event)

    def model_columns(self, name: str, version: int) -> dict[str, dict[str, Any]] | None:
        key = (name, version)
        if key not in self.model_columns_cache:
            try:
                manifest = get_resources().store.manifest(name, version)
                self.model_columns_cache[key] = {c["name"]: c for c in manifest["columns"]}
            except (ModelStoreError, OSError, KeyError):
                return None  # not cached: the model may appear later
        return self.model_columns_cache[key]

    async def flush(self) -> None:
        async with self.lock:
            events, self.events = self.events, []
            if events:
                await self._write(events)

    async def _write(self, events: list) -> None:
        res = get_resources()
        columns = res.writer.columns
        ingested_at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
        rows, seen = [], set()
        for event in events:
            message = event.message
            try:
                record = parse_record(event.value, columns, self.model_columns)
            except RecordError as exc:
                await dead_letter(dlq_topic, event, str(exc))
                self.stats["dead_lettered"] += 1
                continue
            if record["record_id"] in seen:
                continue
            seen.add(record["record_id"])
            record.update(
                ingested_at=ingested_at, kafka_topic=message.topic, kafka_partition=message.partition,
                kafka_offset=message.offset,
            )
            rows.append(record)
        inserted = await write_until_stored(rows)
        self.stats["landed"] += inserted
        self.stats["duplicates"] += len(rows) - inserted
        self.stats["batches"] += 1
        for event in events:  # only now may the offsets be committed
            await self.stream.ack(event)


async def write_until_stored(rows: list[dict[str, Any]]) -> int:
    """Write a batch, retrying with backoff while the warehouse is unavailable."""
    if not rows:
        return 0
    res = get_resources()
    delay = 0.2
    while True:
        try:
            inserted = await res.warehouse(lambda writer, batch: writer.write(batch), rows)
        except Exception as exc:  # every failure is retried: nothing is acknowledged before it is stored
            res.warehouse_error = str(exc)
            logger.warning("warehouse write of %d rows failed, retrying in %.1fs: %s", len(rows), delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, res.settings.sink_retry_max_seconds)
            continue
        res.warehouse_error = None
        return inserted


batch = SinkBatch()


@app.agent(records_topic)
async def sink_records(stream):
    settings = get_resources().settings
    stream = stream.noack()
    batch.stream = stream
    async for event in stream.events():
        batch.add(event)
        if len(batch.events) >= settings.sink_batch_size:
            await batch.flush()


@app.timer(interval=0.25)
async def flush_old_batch():
    if batch.events and time.monotonic() - batch.first_at >= get_resources().settings.sink_batch_seconds:
        await batch.flush()
