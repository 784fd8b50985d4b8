"""What one worker holds, in one object made at its start: its settings, the model store, the warehouse writer
and its threads, the process pools, the records producer, the status view's entries, the streams it paces,
the trainings it runs, what it knows of the broker's topics, and its sink.

The assembly (cardiosynth.main) makes it and puts it on the Faust app (`app.worker`), where the agents find it;
the web API finds it in its aiohttp application (`request.app[WORKER]`, web.routes). The parts are made on
first use: a worker that never samples starts no sampling process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from typing import Any, Callable

from models_store import store_from_settings
from worker.settings import Settings
from synthesis.process import PoolContext, init_sampling, init_training
from warehouse import WarehouseWriter, create_writer

logger = logging.getLogger(__name__)


class StatusEntries:
    """The status view: every training and stream entry this worker folded from the status topic (agents.status)."""

    TABLES = ("training", "stream")

    def __init__(self):
        self.tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.TABLES}
        self.caught_up = asyncio.Event()  # set once the topic was read up to where it ended at the start

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        return self.tables[table].get(key)

    def entries(self, table: str) -> list[dict[str, Any]]:
        return list(self.tables[table].values())

    def keys(self, table: str) -> list[str]:
        return list(self.tables[table])


class Worker:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.status = StatusEntries()
        self.status_view = None  # the service folding the status topic, once started (agents.status.StatusView)
        self.pacers: dict[str, asyncio.Task] = {}  # streams this worker schedules chunks of (agents.generation)
        self.trainings: dict[str, asyncio.Task] = {}  # trainings running here (agents.training)
        # topics_confirmed: no broker outage seen since a check found (or made) every topic (agents.lost_topics);
        # the worker starts with its topics just declared (cardiosynth.main.prepare_broker)
        self.topics_confirmed = True
        self.next_topic_check = 0.0
        self.outages = 0  # broker outages seen (agents.lost_topics.BrokerWatch)
        self.streams_lost: set[str] = set()  # streams in flight when the generation topic was lost, to mark failed
        self.sink = None  # the records sink service, once started (agents.record_sink.RecordSink)
        self.store = store_from_settings(settings)
        self._writer: WarehouseWriter | None = None
        # One thread for every warehouse call: writes stay ordered and off the event loop.
        self._warehouse_thread = ThreadPoolExecutor(1, thread_name_prefix="warehouse")
        # Reads for the warehouse views run on their own thread, not queued among the sink's writes.
        self._warehouse_reads = ThreadPoolExecutor(1, thread_name_prefix="warehouse-read")
        self._pool_context = PoolContext()
        self._sampling_pool: ProcessPoolExecutor | None = None
        self._training_pool: ProcessPoolExecutor | None = None
        self._progress_queue = None
        self._relay: threading.Thread | None = None
        self._closed = threading.Event()
        self._progress_listeners: list[Callable[[dict[str, Any]], None]] = []
        self.warehouse_error: str | None = None
        self._records_producer = None

    def broker_seen_down(self) -> None:
        """The broker did not answer: its topics are unconfirmed until a topic check that began after this has
        found (or made) them again (agents.lost_topics). Whoever sees it records it: the topic timer's watch
        thread, and /health, which may see an outage too short for the watch's interval."""
        self.outages += 1
        self.topics_confirmed = False
        self.next_topic_check = 0.0

    @property
    def records_producer(self):
        """The bulk producer of synthetic records (started on first send)."""
        if self._records_producer is None:
            from broker.producer import BatchProducer

            from broker.security import client_options

            self._records_producer = BatchProducer(self.settings.bootstrap_servers, **client_options(self.settings))
        return self._records_producer

    # --- warehouse -------------------------------------------------------------------------
    @property
    def writer(self) -> WarehouseWriter:
        if self._writer is None:
            self._writer = create_writer(self.settings)
        return self._writer

    async def warehouse(self, fn: Callable, *args) -> Any:
        """Run fn(writer, *args) on the warehouse thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._warehouse_thread, partial(fn, self.writer, *args))

    async def warehouse_read(self, fn: Callable, *args) -> Any:
        """Run fn(writer, *args), a read, on the read thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._warehouse_reads, partial(fn, self.writer, *args))

    # --- process pools (spawned, ended by the worker: see synthesis.process) -------------------
    @property
    def sampling_pool(self) -> ProcessPoolExecutor:
        if self._sampling_pool is None:
            self._sampling_pool = ProcessPoolExecutor(
                self.settings.sampling_processes, mp_context=self._pool_context, initializer=init_sampling,
                initargs=(self.store, os.getpid(), self.settings.pool_niceness),
            )
        return self._sampling_pool

    async def sample(self, fn: Callable, *args) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.sampling_pool, fn, *args)

    def training_pool(self, on_progress: Callable[[dict[str, Any]], None]) -> ProcessPoolExecutor:
        """The training pool; on_progress is called on the event loop for each progress event."""
        if self._training_pool is None:
            self._progress_queue = self._pool_context.Queue()
            # max_tasks_per_child=1: a training's process ends with it and hands back its memory
            # (torch, the dataset, about 0.6-1.5 GB); a fresh one, without torch loaded, waits for the next.
            self._training_pool = ProcessPoolExecutor(
                self.settings.training_processes, mp_context=self._pool_context, initializer=init_training,
                max_tasks_per_child=1,
                initargs=(self._progress_queue, self.store, os.getpid(), self.settings.pool_niceness),
            )
            loop = asyncio.get_running_loop()
            self._relay = threading.Thread(
                target=self._relay_progress, args=(loop, on_progress), name="training-progress", daemon=True
            )
            self._relay.start()
        return self._training_pool

    def _relay_progress(self, loop: asyncio.AbstractEventLoop, on_progress) -> None:
        # Polled rather than ended by a sentinel: the processes that put here may have been killed mid-put.
        while not self._closed.is_set():
            try:
                item = self._progress_queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                loop.call_soon_threadsafe(on_progress, item)
            except RuntimeError:  # the event loop is closed: the worker is gone
                return

    async def stop(self) -> None:
        if self._records_producer is not None:
            try:
                # with the broker unreachable, records not yet delivered would hold the stop for the request timeout
                await asyncio.wait_for(self._records_producer.stop(), self.settings.stop_wait_seconds)
            except asyncio.TimeoutError:
                logger.warning("records producer did not stop within %.0fs", self.settings.stop_wait_seconds)
        self.close()

    def kill_processes(self) -> None:
        """Kill the pool processes at once (what they run is lost)."""
        self._pool_context.kill()

    def close(self) -> None:
        """Stop every thread and process this object started; the work they were doing is lost."""
        self._closed.set()
        for pool in (self._sampling_pool, self._training_pool):
            if pool is not None:
                self._pool_context.end(pool)
        if self._relay is not None:
            self._relay.join(timeout=1)
        self._warehouse_thread.shutdown(wait=False, cancel_futures=True)
        self._warehouse_reads.shutdown(wait=False, cancel_futures=True)
        if self._writer is not None:
            self._writer.close()
