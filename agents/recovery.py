"""After a worker dies: its trainings end as failed, its streams are resumed by a live worker.

A training or stream in progress carries `heartbeat_at`, refreshed by the worker doing the work.
When it goes stale, the worker that consumes the generation partition the entry's key maps to
(exactly one in the group) takes over: a training cannot resume half-fitted, so it fails with a message saying what happened;
a stream's plan and progress are in the status topic, so its pacing resumes from
`chunks_scheduled` (chunks are deterministic, so any chunk sent twice lands once), and a stream
fully scheduled is finished by its new owner once its rows have landed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from aiokafka.partitioner import murmur2

from agents import generation
from agents.status import TERMINAL, is_ready, now, publish_status, streams, training_tasks
from agents.status import entry as status_entry
from agents.topics import generation_topic
from worker.app import app

logger = logging.getLogger(__name__)


def owns(key: str) -> bool:
    """True when this worker consumes the generation partition `key` maps to (so it alone acts on it)."""
    partitions = app.worker.settings.topic_partitions
    partition = (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
    assigned = {(tp.topic, tp.partition) for tp in app.assignor.assigned_actives()}
    return (generation_topic.get_topic_name(), partition) in assigned


def stale(entry: dict, seconds: float) -> bool:
    stamp = entry.get("heartbeat_at") or entry.get("updated_at") or entry.get("created_at")
    if not stamp:
        return True
    return datetime.now(timezone.utc) - datetime.fromisoformat(stamp) > timedelta(seconds=seconds)


@app.timer(interval=5.0)
async def recover_orphans() -> None:
    if app.rebalancing or not is_ready():
        return  # the status topic is still being read back: entries may be out of date
    settings = app.worker.settings
    for task_id in list(training_tasks.keys()):
        entry = status_entry("training", task_id)
        if not entry or entry.get("status") in TERMINAL or task_id in app.worker.trainings:
            continue
        if stale(entry, settings.heartbeat_timeout) and owns(task_id):
            logger.warning("training task %s lost its worker; marking it failed", task_id)
            await publish_status("training", task_id, changes={
                "status": "failed", "message": "failed", "completed_at": now(),
                "error": f"the worker running this training stopped (no heartbeat for "
                         f"{settings.heartbeat_timeout:.0f}s); start the training again"})
    for stream_id in list(streams.keys()):
        entry = status_entry("stream", stream_id)
        if not entry or entry.get("state") in TERMINAL or stream_id in app.worker.pacers:
            continue
        if stale(entry, settings.heartbeat_timeout) and owns(stream_id):
            logger.warning("stream %s lost its worker at chunk %s of %s; resuming", stream_id,
                           entry.get("chunks_scheduled"), entry.get("chunks_total"))
            generation.resume(entry)
