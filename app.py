"""The Faust app: agents, tables and the HTTP API in one worker process.

`cardiosynth worker -l info` (or `faust -A app worker`) runs a worker; with no Kafka servers
configured, `main()` first starts the embedded broker.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys

import faust
from mode import Signal

from broker.security import client_options, faust_credentials
from settings import get_settings

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

    def _new_web(self):
        # Faust's own index view ({"status": "OK"}) would take `/` first: there the worker serves the dashboard.
        from web.dashboard import WorkerWeb

        return WorkerWeb(self)

    def on_webserver_init(self, web) -> None:
        from web.routes import install

        install(web.web_app, self)


def _web_app_options() -> dict:
    from web.middleware import MIDDLEWARES

    return {"client_max_size": settings.max_body_bytes, "middlewares": MIDDLEWARES}


app = CardiosynthApp(
    settings.app_id,
    broker=settings.broker_url,
    broker_credentials=faust_credentials(settings),
    store="memory://",
    datadir=str(settings.state_dir / "faust"),
    web_port=settings.web_port,
    web_bind=settings.web_host,
    web_host=settings.web_host,
    web_application_options=_web_app_options(),
    topic_partitions=settings.topic_partitions,
    topic_replication_factor=settings.topic_replication_factor,
    broker_rebalance_timeout=settings.rebalance_timeout,
    broker_session_timeout=settings.session_timeout,
    broker_heartbeat_interval=min(3.0, settings.session_timeout / 3),
    consumer_auto_offset_reset="earliest",
    table_cleanup_interval=60.0,
    producer_linger=0.005,
    # Faust imports these packages on start (the worker CLI, `faust -A app`), so agent modules can
    # import `app` without a cycle.
    autodiscover=["agents", "lifecycle", "cli"],
    origin="app",
)


def topic_names() -> list[str]:
    from agents.topics import TOPICS

    return [t.get_topic_name() for t in TOPICS]


def prepare_broker() -> None:
    """Start the embedded broker if no servers are configured, then create the app's topics."""
    from broker.embedded import EmbeddedBroker
    from broker.topics import ensure_topics, topic_configs

    if settings.uses_embedded_broker:
        broker = EmbeddedBroker(settings.embedded_broker_port, settings.state_dir)
        if broker.ensure():
            atexit.register(broker.stop)
    asyncio.run(
        ensure_topics(
            settings.bootstrap_servers, topic_names(), settings.topic_partitions, settings.topic_replication_factor,
            configs=topic_configs(settings), **client_options(settings),
        )
    )


def main() -> None:
    """Console script `cardiosynth`: the Faust CLI of this app."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        prepare_broker()
    app.main()


if __name__ == "__main__":
    main()
