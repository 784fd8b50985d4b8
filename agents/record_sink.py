"""The sink's consumer loop: fetch a batch, write it, commit its offsets; run as a Faust app service."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import mode
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from agents.sink import BatchWriter, SinkMessage
from agents.status import publish_landing
from broker.security import client_options
from agents.topics import records_topic
from worker.app import app

logger = logging.getLogger(__name__)
FETCH_SLICE = 500  # records unpacked per turn of the event loop


@app.service
class RecordSink(mode.Service):
    """Consumes the records topic in the group `<app id>-sink`; partitions spread over the workers."""

    consumer: AIOKafkaConsumer | None = None
    _joining: asyncio.Future | None = None
    writer: BatchWriter | None = None
    batches = 0  # written by this sink

    async def on_start(self) -> None:
        settings = app.worker.settings
        self.writer = BatchWriter(app.worker)
        app.worker.sink = self  # the views read its counters, outage report and lag there
        self.consumer = AIOKafkaConsumer(
            records_topic.get_topic_name(),
            bootstrap_servers=settings.bootstrap_servers,
            group_id=f"{settings.app_id}-sink",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=settings.sink_batch_size,
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            rebalance_timeout_ms=int(settings.rebalance_timeout * 1000),
            session_timeout_ms=int(settings.session_timeout * 1000),
            heartbeat_interval_ms=int(min(3.0, settings.session_timeout / 3) * 1000),
            **client_options(settings),
        )
        # The sink group is joined in the background: the join waits on the broker (half the session
        # timeout on Tansu), and it overlaps the agents' own group join instead of following it, so the
        # worker is ready about 5 s sooner. Nothing is missed: a new group reads from the earliest offset.
        self._joining = asyncio.ensure_future(self.consumer.start())
        self.add_future(self._run())

    async def on_stop(self) -> None:
        if self._joining is not None and not self._joining.done():
            self._joining.cancel()
        if self.consumer is not None:
            await self.consumer.stop()  # uncommitted records are fetched again by the next owner

    async def lag(self) -> dict[TopicPartition, int]:
        """Records on the broker this sink has not fetched yet, per assigned partition (from the last fetch)."""
        lags: dict[TopicPartition, int] = {}
        for tp in self.consumer.assignment() if self.consumer is not None else ():
            highwater = self.consumer.highwater(tp)
            if highwater is None:
                continue  # no fetch answered for this partition yet
            try:
                position = await asyncio.wait_for(self.consumer.position(tp), timeout=1.0)
            except (asyncio.TimeoutError, IllegalStateError, KafkaError):
                continue  # being reassigned
            lags[tp] = max(highwater - position, 0)
        return lags

    async def _fetch_batch(self, timeout_ms: int, size: int) -> tuple[list[SinkMessage], dict[TopicPartition, int]]:
        """Up to `size` records already fetched (waiting up to timeout_ms for the first), and the offsets after them.

        aiokafka unpacks records in Python on the event loop, all those one getmany returns in one step:
        a whole sink batch at once was the loop's longest step. Taken FETCH_SLICE at a time, with the loop
        free for requests in between.
        """
        messages: list[SinkMessage] = []
        offsets: dict[TopicPartition, int] = {}
        while len(messages) < size:
            try:
                fetched = await self.consumer.getmany(timeout_ms=0 if messages else timeout_ms,
                                                      max_records=min(FETCH_SLICE, size - len(messages)))
            except KafkaError:
                if not messages:
                    raise
                break  # the records taken so far are written and committed; the error comes back next fetch
            if not fetched:
                break
            for tp, batch in fetched.items():
                messages += [SinkMessage(m.key, m.value, m.topic, m.partition, m.offset) for m in batch]
                offsets[tp] = batch[-1].offset + 1
            await asyncio.sleep(0)
        return messages, offsets

    async def _run(self) -> None:
        settings = app.worker.settings
        try:
            await self._joining
        except asyncio.CancelledError:
            return  # stopped before the group was joined
        except Exception as exc:  # e.g. no broker: the worker stops with the cause, as when this was on_start
            await self.crash(exc)
            return
        timeout_ms = int(settings.sink_batch_seconds * 1000)
        while not self.should_stop:
            try:
                messages, offsets = await self._fetch_batch(timeout_ms, settings.sink_batch_size)
            except KafkaError as exc:
                logger.warning("records fetch failed, retrying: %s", exc)
                await asyncio.sleep(1)
                continue
            if not messages:
                continue
            landing = await self.writer.write(messages)
            # the counts reach the status topic before the offsets are committed: a crash in between
            # writes the batch again, and the status view counts its offsets once
            await publish_landing(landing)
            self.batches += 1
            if self.batches == settings.sink_kill_before_commit:
                logger.warning("SINK_KILL_BEFORE_COMMIT: killing this worker before committing batch %d", self.batches)
                os.kill(os.getpid(), signal.SIGKILL)
            try:
                await self.consumer.commit(offsets)
            except (CommitFailedError, KafkaError) as exc:
                # partitions moved to another worker: it re-reads them, and writes are idempotent
                logger.info("commit after write skipped (%s); records will be re-read", exc)
