"""Every topic of the app, declared in one place with the partitions the app expects."""

from __future__ import annotations

from agents.records import GenerationChunk, StatusUpdate
from worker.app import app
from worker.settings import get_settings

_s = get_settings()
_raw = {"key_serializer": "raw", "value_serializer": "raw", "partitions": _s.topic_partitions}

control_topic = app.topic(_s.control_topic, **_raw)
control_dlq_topic = app.topic(_s.topic_names[1], **_raw)
generation_topic = app.topic(
    _s.generation_topic, key_type=str, value_type=GenerationChunk, partitions=_s.topic_partitions
)
status_topic = app.topic(_s.status_topic, key_type=str, value_type=StatusUpdate, partitions=_s.topic_partitions)
records_topic = app.topic(_s.records_topic, **_raw)
dlq_topic = app.topic(_s.dlq_topic, **_raw)

TOPICS = [control_topic, control_dlq_topic, generation_topic, status_topic, records_topic, dlq_topic]
