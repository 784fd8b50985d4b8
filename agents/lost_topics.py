"""Topics a broker lost come back: every worker checks now and then that the app's topics exist.

A broker restarted without its data (the embedded Tansu keeps nothing; a Kafka cluster rebuilt
empty) no longer has the topics, consumer groups or offsets. The clients reconnect and the groups
re-join by themselves, but a topic is not re-declared: Tansu then accepts records for a topic it
does not list, and refuses offset commits on it (UnknownTopicOrPartition), so the sink could never
acknowledge a batch again; a broker without auto-creation would refuse the records outright.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka.errors import KafkaError

from app import app, topic_names
from broker.security import client_options
from broker.topics import ensure_topics
from settings import get_settings

logger = logging.getLogger(__name__)
_settings = get_settings()


@app.timer(interval=_settings.topic_check_seconds)
async def recreate_lost_topics() -> None:
    """Create the app's topics the broker does not have (again)."""
    try:
        created = await asyncio.wait_for(
            ensure_topics(_settings.bootstrap_servers, topic_names(), _settings.topic_partitions,
                          _settings.topic_replication_factor, **client_options(_settings)),
            timeout=max(_settings.topic_check_seconds, 5.0),
        )
    except (KafkaError, OSError, asyncio.TimeoutError) as exc:
        logger.debug("topic check skipped, broker unreachable: %s", exc)  # /health reports the broker
        return
    if created:
        logger.warning("the broker had lost topics %s (restarted without its data?); created them again", created)
