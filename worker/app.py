"""The Faust app of a worker: agents, topics and the HTTP server register on it.

The app is made here, with nothing registered; cardiosynth.main registers the agents, the web API and the
commands and runs it (`cardiosynth worker -l info`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

import faust
from mode import Signal

from broker.security import faust_credentials
from worker.settings import get_settings
from worker.state import Worker

logger = logging.getLogger(__name__)
settings = get_settings()


class CardiosynthApp(faust.App):
    # Sent first when the worker stops, while the consumer, the producer and the pools still run: work in
    # progress is ended there (lifecycle.end_work) before Faust waits for the events being processed.
    on_stopping: Signal = Signal()

    async def on_stop(self) -> None:
        await self.on_stopping.send(self)
        await super().on_stop()

    async def _consumer_wait_empty(self, consumer, logger) -> None:
        # Faust waits, without a limit, until every event in progress is acknowledged: a chunk whose
        # records cannot be sent (broker unreachable) would hold the worker forever. A chunk cut short
        # is not acknowledged (agents.generation), so not committed: the next worker samples it again.
        waiting = asyncio.ensure_future(super()._consumer_wait_empty(consumer, logger))
        if not (await asyncio.wait({waiting}, timeout=settings.stop_wait_seconds))[0]:
            waiting.cancel()  # not awaited: a commit to an unreachable broker can ignore the cancel for long
            logger.warning("events still in progress after %.0fs: left to the next worker", settings.stop_wait_seconds)

    # What this worker holds (worker.state.Worker), made by the assembly before the app starts; the agents use it.
    worker: Worker | None = None
    # Set by the assembly (cardiosynth.main), which imports the web package: this module does not.
    web_class: type | None = None  # the web server (Faust's serves its own index at `/`)
    web_installer: Callable[[Any, Any], None] | None = None  # adds the routes and middlewares to the aiohttp app

    def _new_web(self):
        return self.web_class(self) if self.web_class is not None else super()._new_web()

    def on_webserver_init(self, web) -> None:
        if self.web_installer is not None:
            self.web_installer(web.web_app, self)


app = CardiosynthApp(
    settings.app_id,
    broker=settings.broker_url,
    broker_credentials=faust_credentials(settings),
    store="memory://",
    datadir=str(settings.state_dir / "faust"),
    web_port=settings.web_port,
    web_bind=settings.web_host,
    web_host=settings.web_host,
    web_application_options={"client_max_size": settings.max_body_bytes},
    topic_partitions=settings.topic_partitions,
    topic_replication_factor=settings.topic_replication_factor,
    broker_rebalance_timeout=settings.rebalance_timeout,
    broker_session_timeout=settings.session_timeout,
    broker_heartbeat_interval=min(3.0, settings.session_timeout / 3),
    consumer_auto_offset_reset="earliest",
    table_cleanup_interval=60.0,
    producer_linger=0.005,
    origin="cardiosynth.main",  # the module that registers the agents, the web API and the commands
)
