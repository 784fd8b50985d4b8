"""Create the app's topics explicitly, with the partitions the app expects.

Brokers that auto-create topics use their own default partition count, which would silently cap
how many workers can share the work; so every topic is declared before the worker subscribes.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

logger = logging.getLogger(__name__)
HOUR_MS = 3_600_000


def topic_configs(settings) -> dict[str, dict[str, str]]:
    """Per-topic configs set at creation: the records topic and the dead-letter topics keep
    RECORDS_RETENTION_HOURS of messages (the original service's 7 days) instead of the broker's default."""
    retention = {"retention.ms": str(int(settings.records_retention_hours * HOUR_MS))}
    return {name: dict(retention) for name in (settings.records_topic, settings.dlq_topic,
                                               f"{settings.control_topic}-dlq")}


async def ensure_topics(
    bootstrap_servers: str,
    names: list[str],
    partitions: int,
    replication_factor: int = 1,
    configs: dict[str, dict[str, str]] | None = None,
    **client_options,
) -> list[str]:
    """Create the topics that do not exist yet (with configs[name] as their topic configs); returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(n, num_partitions=partitions, replication_factor=replication_factor,
                              topic_configs=(configs or {}).get(n, {})) for n in missing]
                )
            except TopicAlreadyExistsError:
                pass  # another worker created them first
            logger.info("Created topics %s with %d partitions", missing, partitions)
        return missing
    finally:
        await admin.close()
