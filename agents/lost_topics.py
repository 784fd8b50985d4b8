"""Topics a broker lost come back: every worker checks now and then that the app's topics exist.

A broker restarted without its data (the embedded Tansu keeps nothing; a Kafka cluster rebuilt
empty) no longer has the topics, consumer groups or offsets. The clients reconnect and the groups
re-join by themselves, but a topic is not re-declared: Tansu then accepts records for a topic it
does not list, and refuses offset commits on it (UnknownTopicOrPartition), so the sink could never
acknowledge a batch again; a broker without auto-creation would refuse the records outright.

Tansu drops the records it accepted for an unlisted topic when the topic is created again. So once
the broker was unreachable the check runs every OUTAGE_CHECK_SECONDS until it has confirmed the
topics, and /health reports the broker degraded meanwhile. The worker that re-creates the topics
marks the streams in flight failed (their planned chunks are gone); the status view reads the new
status topic from its start (agents/status.py).
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka.errors import KafkaError

from agents.generation import fail_streams_in_flight
from agents.status import StatusView
from agents.topics import generation_topic
from worker.app import app
from broker.security import client_options
from broker.topics import ensure_topics, topic_configs
from worker.settings import get_settings

logger = logging.getLogger(__name__)
_settings = get_settings()
OUTAGE_CHECK_SECONDS = 0.5
# confirmed: no outage seen since the last check that found (or made) every topic; the worker starts
# with the topics just declared (app.prepare_broker)
_state = {"confirmed": True, "next_check": 0.0}


def topics_confirmed() -> bool:
    """False from a seen outage until a check has found (or made) every topic again."""
    return _state["confirmed"]


def broker_unreachable() -> None:
    """The broker was seen down: its topics are unconfirmed, and checked often until they are."""
    _state.update(confirmed=False, next_check=0.0)


async def _create_missing() -> list[str]:
    return await asyncio.wait_for(
        ensure_topics(_settings.bootstrap_servers, _settings.topic_names, _settings.topic_partitions,
                      _settings.topic_replication_factor, configs=topic_configs(_settings),
                      **client_options(_settings)),
        timeout=max(_settings.topic_check_seconds, 5.0),
    )


@app.timer(interval=OUTAGE_CHECK_SECONDS)
async def recreate_lost_topics() -> None:
    if time.monotonic() >= _state["next_check"]:
        await check_topics()


async def check_topics() -> None:
    """Create the app's topics the broker does not have (again)."""
    view = StatusView.running
    try:
        created = await (view.recreating(_create_missing) if view is not None else _create_missing())
    except (KafkaError, OSError, asyncio.TimeoutError) as exc:
        logger.debug("topic check failed, broker unreachable: %s", exc)  # /health reports the broker
        broker_unreachable()
        return
    _state.update(confirmed=True, next_check=time.monotonic() + _settings.topic_check_seconds)
    if not created:
        return
    logger.warning("the broker had lost topics %s (restarted without its data?); created them again", created)
    if generation_topic.get_topic_name() in created:
        failed = await fail_streams_in_flight("the broker lost its data (restarted?) while the stream ran")
        if failed:
            logger.warning("streams %s marked failed: their chunks were on the broker", failed)
