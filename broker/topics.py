"""Create the app's topics explicitly, with the partitions the app expects.

Brokers that auto-create topics use their own default partition count, which would silently cap
how many workers can share the work; so every topic is declared before the worker subscribes.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

logger = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap_servers: str,
    names: list[str],
    partitions: int,
    replication_factor: int = 1,
    **client_options,
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(n, num_partitions=partitions, replication_factor=replication_factor) for n in missing]
                )
            except TopicAlreadyExistsError:
                pass  # another worker created them first
            logger.info("Created topics %s with %d partitions", missing, partitions)
        return missing
    finally:
        await admin.close()
