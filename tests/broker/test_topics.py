"""Topics are created with the configs the app asks for: the records topic and the DLQs keep 7 days."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from broker.topics import ensure_topics, topic_configs
from worker.settings import Settings

pytestmark = pytest.mark.integration


async def _retention(bootstrap: str, names: list[str]) -> dict[str, str | None]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    finally:
        await admin.close()
    found = {}
    for response in responses:
        for _error, _message, _type, name, entries in response.resources:
            found[name] = next((e[1] for e in entries if e[0] == "retention.ms"), None)
    return found


def test_records_and_dlq_topics_keep_the_configured_retention(kafka_broker):
    uid = uuid.uuid4().hex[:8]
    settings = Settings(records_topic=f"records-{uid}", dlq_topic=f"dlq-{uid}", control_topic=f"control-{uid}")
    assert settings.records_retention_hours == 168  # the original service's 7 days
    other = f"status-{uid}"
    names = [settings.records_topic, settings.dlq_topic, f"{settings.control_topic}-dlq", other]
    created = asyncio.run(ensure_topics(kafka_broker, names, 2, configs=topic_configs(settings)))
    assert created == names
    week_ms = str(7 * 24 * 3_600_000)
    assert asyncio.run(_retention(kafka_broker, names)) == {
        settings.records_topic: week_ms, settings.dlq_topic: week_ms, f"{settings.control_topic}-dlq": week_ms,
        other: None,  # the broker's default
    }


def test_retention_hours_is_a_setting(monkeypatch):
    monkeypatch.setenv("RECORDS_RETENTION_HOURS", "24")
    assert topic_configs(Settings())[Settings().records_topic] == {"retention.ms": "86400000"}
