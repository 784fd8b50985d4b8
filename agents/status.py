"""Status of training tasks and streams: every worker folds the whole status topic into its own view.

Every change (from commands, training processes, pacers, generators) is a StatusUpdate event keyed
by the entry's id, sent to the status topic; updates of one entry share a partition, so they stay in
order. Each worker reads every partition of that topic from the beginning (no consumer group) and
applies the updates in order, so any worker answers any status request with the same entries, and
no counter is lost when partitions move between workers.

(The first design kept Faust global tables written by the status partition's owner. A replica
follows the changelog a little behind, and an owner that took over a partition folded new updates
onto that older value: with two workers, 17 of 20 chunks were counted in one run.)
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import mode
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from agents.records import StatusUpdate
from agents.topics import status_topic
from worker.app import app
from broker.security import client_options

logger = logging.getLogger(__name__)
TERMINAL = {"completed", "failed", "cancelled"}


class StatusTable:
    """One table of the running worker's status view (app.worker.status), read by the agents."""

    def __init__(self, name: str):
        self.name = name

    @property
    def data(self) -> dict[str, dict[str, Any]]:
        return app.worker.status.tables[self.name]

    def get(self, key: str, default: Any = None) -> dict[str, Any] | None:
        return self.data.get(key, default)

    def keys(self) -> list[str]:
        return list(self.data)

    def values(self) -> list[dict[str, Any]]:
        return list(self.data.values())

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def __len__(self) -> int:
        return len(self.data)


training_tasks = StatusTable("training")
streams = StatusTable("stream")


def entry(table: str, key: str) -> dict[str, Any] | None:
    return app.worker.status.get(table, key)


def all_landed(entry: dict[str, Any]) -> bool:
    """Every row of a stream entry is in the warehouse (its owner then marks it completed)."""
    return entry.get("num_samples") is not None and entry.get("rows_landed", 0) >= entry["num_samples"]


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def apply_update(current: dict[str, Any] | None, update: StatusUpdate) -> dict[str, Any]:
    """The entry after an update; a finished entry keeps its final state."""
    entry = dict(current or {})
    changes = dict(update.changes)
    state_key = "status" if update.table == "training" else "state"
    if entry.get(state_key) in TERMINAL:
        for key in (state_key, "progress", "message", "completed_at", "error"):
            changes.pop(key, None)
    for key, amount in update.increments.items():
        entry[key] = entry.get(key, 0) + amount
    if update.landing:
        apply_landing(entry, update.landing)
    entry.update(changes)
    entry["updated_at"] = now()
    return entry


def apply_landing(entry: dict[str, Any], landing: dict[str, Any]) -> None:
    """Add a sink batch's landed and rejected records to an entry, each records-topic offset once.

    `sink_offsets` holds, per partition, the offset after the last one counted. A sink reads a partition
    in order and starts again at its committed offset, so offsets below that mark were counted by an
    earlier report of the same messages (a batch written again after a crash, or by the partition's
    next owner), which reports them alike (agents.sink.Landing).
    """
    marks = dict(entry.get("sink_offsets") or {})
    reached = dict(marks)
    for kind, field in (("landed", "rows_landed"), ("rejected", "rows_rejected")):
        for partition, ranges in (landing.get(kind) or {}).items():
            mark = marks.get(partition, 0)
            entry[field] = entry.get(field, 0) + sum(max(0, end - max(first, mark)) for first, end in ranges)
            if ranges:
                reached[partition] = max(reached.get(partition, 0), ranges[-1][1])
    entry["sink_offsets"] = reached


def apply_message(value: bytes | None) -> None:
    """Fold one status-topic message into this worker's entries (an unreadable one is logged and skipped)."""
    try:
        update = StatusUpdate.from_data(json.loads(value))
    except (TypeError, ValueError, KeyError) as exc:
        logger.warning("unreadable status update skipped: %s", exc)
        return
    tables = app.worker.status.tables
    if update.table not in tables:
        logger.warning("status update for unknown table %r dropped", update.table)
        return
    tables[update.table][update.key] = apply_update(tables[update.table].get(update.key), update)


@app.service
class StatusView(mode.Service):
    """Reads every status partition from the beginning and keeps folding; `caught_up` once at the end.

    A broker restarted without its data (the embedded Tansu) starts the topic again at offset 0,
    under a position this view already passed: Tansu answers such fetches with nothing rather than
    OffsetOutOfRange, so the view would skip every new update. It reads a lost log again from 0.
    """

    consumer: AIOKafkaConsumer | None = None

    async def on_start(self) -> None:
        settings = app.worker.settings
        name = status_topic.get_topic_name()
        self.partitions = [TopicPartition(name, p) for p in range(settings.topic_partitions)]
        self.next_offsets = dict.fromkeys(self.partitions, 0)  # after the last update folded
        self.folding = asyncio.Lock()  # a batch is fetched and folded under it: a rewind never splits one
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", **client_options(settings),
        )
        await self.consumer.start()
        self.consumer.assign(self.partitions)
        await self.consumer.seek_to_beginning(*self.partitions)
        app.worker.status_view = self  # for the topic check to rewind (agents.lost_topics)
        self.add_future(self._run())

    async def on_stop(self) -> None:
        app.worker.status_view = None
        if self.consumer is not None:
            await self.consumer.stop()

    async def _end_offsets(self) -> dict[TopicPartition, int] | None:
        try:
            return await self.consumer.end_offsets(self.partitions)
        except KafkaError as exc:
            logger.warning("status topic end offsets unavailable, retrying: %s", exc)
            return None

    async def _rewind(self, partitions: list[TopicPartition], why: str) -> None:
        """Fold these partitions again from their first update; entries folded so far are kept."""
        logger.warning("status partitions %s read again from the start: %s", sorted(tp.partition for tp in partitions), why)
        for tp in partitions:
            self.next_offsets[tp] = 0
        await self.consumer.seek_to_beginning(*partitions)

    async def _rewind_lost_logs(self) -> None:
        lost = [tp for tp in self.partitions
                if (end := self.consumer.highwater(tp)) is not None and self.next_offsets[tp] > end]
        if lost:
            await self._rewind(lost, "the broker's log ends before updates this worker already read (broker restarted?)")

    async def recreating(self, create: Callable[[], Awaitable[list[str]]]) -> list[str]:
        """Run `create` (topics re-declared) with folding held; read the status topic again if it was created."""
        async with self.folding:
            created = await create()
            if status_topic.get_topic_name() in created:
                await self._rewind(self.partitions, "the status topic was created again")
        return created

    async def _run(self) -> None:
        target = None
        while not self.should_stop:
            caught_up = app.worker.status.caught_up
            if target is None and not caught_up.is_set():
                target = await self._end_offsets()
            async with self.folding:
                try:
                    fetched = await self.consumer.getmany(timeout_ms=200, max_records=10_000)
                except KafkaError as exc:
                    logger.warning("status fetch failed, retrying: %s", exc)
                    fetched = None
                else:
                    for tp, batch in fetched.items():
                        for message in batch:
                            apply_message(message.value)
                        if batch:
                            self.next_offsets[tp] = batch[-1].offset + 1
                    await self._rewind_lost_logs()
            if fetched is None:
                await asyncio.sleep(1)
                continue
            if target is not None and not caught_up.is_set():
                positions = {tp: await self.consumer.position(tp) for tp in self.partitions}
                if all(positions[tp] >= offset for tp, offset in target.items()):
                    caught_up.set()
                    logger.info("status view caught up: %d trainings, %d streams",
                                len(training_tasks), len(streams))


def is_ready() -> bool:
    return app.worker.status.caught_up.is_set()


async def ready(timeout: float | None = None) -> bool:
    """Wait until this worker has read the status topic to the end it had at start (True if so)."""
    try:
        await asyncio.wait_for(app.worker.status.caught_up.wait(), timeout)
        return True
    except asyncio.TimeoutError:
        return False


async def send_confirmed(topic, key, value, what: str, attempts: int = 6):
    """Send and wait until the broker has it, sending again while it refuses.

    Right after a broker re-created its topics, Tansu refused sends for a moment (UnknownError): a
    stream's 'failed' mark sent without waiting was lost, the stream stayed running, and recovery later
    resumed it with its chunks gone. A send refused after all attempts raises.
    """
    delay = 0.2
    for attempt in range(1, attempts + 1):
        sent = await topic.send(key=key, value=value)
        try:
            return await sent
        except KafkaError as exc:
            if attempt == attempts:
                raise
            logger.warning("%s refused (%s); sending it again in %.1fs", what, exc, delay)
            await asyncio.sleep(delay)
            delay *= 2


async def publish_status(
    table: str, key: str, changes: dict[str, Any] | None = None, increments: dict[str, int] | None = None,
    *, confirm: bool = False,
) -> Awaitable | None:
    """Send a status change; every worker applies it in order with the other changes to the same entry.

    Returns what to await for the broker's acknowledgement (the send itself returns once buffered).
    confirm: wait here until the broker has it (send_confirmed), for a change nothing would send again.
    """
    update = StatusUpdate(table=table, key=key, changes=changes or {}, increments=increments or {})
    if confirm:
        await send_confirmed(status_topic, key, update, f"status update of {table} {key}")
        return None
    return await status_topic.send(key=key, value=update)


async def publish_landing(landing) -> None:
    """Send what a sink batch landed, per request, and wait until the broker has all of it (retrying while
    it refuses: the batch's offsets are committed only after this)."""
    at = now()
    pending = {request_id: StatusUpdate(
        table="stream", key=request_id, changes={"last_landed_at": at} if "landed" in kinds else {},
        landing=kinds) for request_id, kinds in landing.updates().items()}
    delay = 0.2
    while pending:
        sent = {key: await status_topic.send(key=key, value=update) for key, update in pending.items()}
        for key, future in sent.items():
            try:
                await future
            except KafkaError as exc:
                logger.warning("landing of %s refused (%s); sending it again in %.1fs", key, exc, delay)
            else:
                pending.pop(key)
        if pending:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
