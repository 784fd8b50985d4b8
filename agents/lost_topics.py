"""Topics a broker lost come back: every worker checks now and then that the app's topics exist.

A broker restarted without its data (the embedded Tansu keeps nothing; a Kafka cluster rebuilt
empty) no longer has the topics, consumer groups or offsets. The clients reconnect and the groups
re-join by themselves, but a topic is not re-declared: Tansu then accepts records for a topic it
does not list, and refuses offset commits on it (UnknownTopicOrPartition), so the sink could never
acknowledge a batch again; a broker without auto-creation would refuse the records outright.

Tansu drops the records it accepted for an unlisted topic when the topic is created again. So once
the broker was unreachable the check runs every OUTAGE_CHECK_SECONDS until it has confirmed the
topics, and /health reports the broker degraded meanwhile. An outage is seen by a thread that dials the
broker every WATCH_SECONDS (BrokerWatch), so a broker restarted between two checks is not missed. The worker that re-creates the topics
marks the streams in flight failed (their planned chunks are gone); the status view reads the new
status topic from its start (agents/status.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import mode
from aiokafka.errors import KafkaError

from agents.generation import fail_streams_in_flight, streams_in_flight
from agents.topics import generation_topic
from worker.app import app
from broker.embedded import port_open
from broker.security import client_options
from broker.topics import ensure_topics, topic_configs

logger = logging.getLogger(__name__)
OUTAGE_CHECK_SECONDS = 0.5
WATCH_SECONDS = 0.1


async def _create_missing() -> list[str]:
    settings = app.worker.settings
    return await asyncio.wait_for(
        ensure_topics(settings.bootstrap_servers, settings.topic_names, settings.topic_partitions,
                      settings.topic_replication_factor, configs=topic_configs(settings),
                      **client_options(settings)),
        timeout=max(settings.topic_check_seconds, 5.0),
    )


def _reachable(servers: str) -> bool:
    for server in (s.strip() for s in servers.split(",") if s.strip()):
        host, _, port = server.rpartition(":")
        if port_open(host or "127.0.0.1", int(port), timeout=0.5):
            return True
    return False


@app.service
class BrokerWatch(mode.Service):
    """Sees the broker go away, however briefly: a thread dials it every WATCH_SECONDS, beside the event loop
    (which may be busy), and an outage leaves the topics unconfirmed until a check has found them again.
    A broker restarted empty between two topic checks would otherwise take records for topics it lost."""

    async def on_start(self) -> None:
        self._stopped = threading.Event()
        threading.Thread(target=self._watch, args=(app.worker,), name="broker-watch", daemon=True).start()

    async def on_stop(self) -> None:
        self._stopped.set()

    def _watch(self, worker) -> None:
        while not self._stopped.wait(WATCH_SECONDS):
            if worker.topics_confirmed and not _reachable(worker.settings.bootstrap_servers):
                worker.broker_seen_down()  # plain assignments, read by the timer on the event loop


@app.timer(interval=OUTAGE_CHECK_SECONDS)
async def recreate_lost_topics() -> None:
    if time.monotonic() >= app.worker.next_topic_check:
        await check_topics()
    await fail_lost_streams()


async def check_topics() -> None:
    """Create the app's topics the broker does not have (again)."""
    worker = app.worker
    view = worker.status_view
    outages = worker.outages
    try:
        created = await (view.recreating(_create_missing) if view is not None else _create_missing())
    except (KafkaError, OSError, asyncio.TimeoutError) as exc:
        logger.debug("topic check failed, broker unreachable: %s", exc)  # /health reports the broker
        worker.broker_seen_down()
        return
    if worker.outages == outages:  # else the broker went away during this check: check again
        worker.topics_confirmed = True
        worker.next_topic_check = time.monotonic() + worker.settings.topic_check_seconds
    if not created:
        return
    logger.warning("the broker had lost topics %s (restarted without its data?); created them again", created)
    if generation_topic.get_topic_name() in created:
        worker.streams_lost = streams_in_flight()
        await fail_lost_streams()


async def fail_lost_streams() -> None:
    """Mark failed the streams whose chunks went with the broker's data; while the broker still refuses the
    marks (a broker just restarted may, for seconds), try again on the next tick instead of stopping the worker."""
    if not app.worker.streams_lost:
        return
    try:
        failed = await fail_streams_in_flight("the broker lost its data (restarted?) while the stream ran",
                                              only=app.worker.streams_lost)
    except KafkaError as exc:
        logger.warning("streams of the lost topics not marked failed yet (%s); trying again", exc)
        return
    app.worker.streams_lost = set()
    if failed:
        logger.warning("streams %s marked failed: their chunks were on the broker", failed)
