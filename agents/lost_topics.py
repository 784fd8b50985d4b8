"""Topics a broker lost come back: every worker checks now and then that the app's topics exist.

A broker restarted without its data (the embedded Tansu keeps nothing; a Kafka cluster rebuilt
empty) no longer has the topics, consumer groups or offsets. The clients reconnect and the groups
re-join by themselves, but a topic is not re-declared: Tansu then accepts records for a topic it
does not list, and refuses offset commits on it (UnknownTopicOrPartition), so the sink could never
acknowledge a batch again; a broker without auto-creation would refuse the records outright.

Tansu drops the records it accepted for an unlisted topic when the topic is created again. So once
the broker was unreachable the check runs every OUTAGE_CHECK_SECONDS until it has confirmed the
topics, and /health reports the broker degraded meanwhile. Between checks, the timer also looks whether the
broker answers at all, so an outage is seen within OUTAGE_CHECK_SECONDS. The worker that re-creates the topics
marks the streams in flight failed (their planned chunks are gone); the status view reads the new
status topic from its start (agents/status.py).
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka.errors import KafkaError

from agents.generation import fail_streams_in_flight
from agents.topics import generation_topic
from worker.app import app
from broker.embedded import port_open
from broker.security import client_options
from broker.topics import ensure_topics, topic_configs

logger = logging.getLogger(__name__)
OUTAGE_CHECK_SECONDS = 0.5


def broker_unreachable() -> None:
    """The broker was seen down: its topics are unconfirmed, and checked often until they are."""
    app.worker.topics_confirmed = False
    app.worker.next_topic_check = 0.0


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


@app.timer(interval=OUTAGE_CHECK_SECONDS)
async def recreate_lost_topics() -> None:
    worker = app.worker
    if time.monotonic() >= worker.next_topic_check:
        await check_topics()
    elif worker.topics_confirmed and not await asyncio.to_thread(_reachable, worker.settings.bootstrap_servers):
        broker_unreachable()  # seen down between checks: it may come back without its topics


async def check_topics() -> None:
    """Create the app's topics the broker does not have (again)."""
    worker = app.worker
    view = worker.status_view
    try:
        created = await (view.recreating(_create_missing) if view is not None else _create_missing())
    except (KafkaError, OSError, asyncio.TimeoutError) as exc:
        logger.debug("topic check failed, broker unreachable: %s", exc)  # /health reports the broker
        broker_unreachable()
        return
    worker.topics_confirmed = True
    worker.next_topic_check = time.monotonic() + worker.settings.topic_check_seconds
    if not created:
        return
    logger.warning("the broker had lost topics %s (restarted without its data?); created them again", created)
    if generation_topic.get_topic_name() in created:
        failed = await fail_streams_in_flight("the broker lost its data (restarted?) while the stream ran")
        if failed:
            logger.warning("streams %s marked failed: their chunks were on the broker", failed)
