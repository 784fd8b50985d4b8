"""Status tables of training tasks and streams, changed only through the status topic.

Faust tables can only be written from inside a stream, and a key's updates must stay in order;
so every change (from commands, training processes, pacers, generators) is a StatusUpdate event
keyed by the entry's id, applied by one agent. The tables are global so that every worker can
answer a status request.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from agents.records import StatusUpdate
from agents.topics import status_topic
from app import app
from settings import get_settings

logger = logging.getLogger(__name__)
_s = get_settings()

# recovery_buffer_size=1: Faust keeps following a global table's changelog partitions after
# recovery only with this setting (faust/tables/recovery.py); without it, with two workers, each
# saw only the updates of its own status partitions (checked with two workers on one broker).
training_tasks = app.GlobalTable("training-tasks", default=None, partitions=_s.topic_partitions, recovery_buffer_size=1)
streams = app.GlobalTable("streams", default=None, partitions=_s.topic_partitions, recovery_buffer_size=1)
TABLES = {"training": training_tasks, "stream": streams}
# The latest entry of each key this worker applied updates to. A global table also replays its own
# changelog, a little behind; folding updates onto a replayed (older) value would lose updates, so
# the owner of a status partition folds onto this instead. Cleared when partitions move.
_applied: dict[tuple[str, str], dict[str, Any]] = {}


def entry(table: str, key: str) -> dict[str, Any] | None:
    """A status entry: this worker's own latest if it applies that key's updates, else the table's."""
    return _applied.get((table, key)) or TABLES[table].get(key)


def entries(table: str) -> list[dict[str, Any]]:
    return [entry(table, key) for key in list(TABLES[table].keys())]


@app.on_partitions_revoked.connect
async def _forget_applied(app, revoked, **kwargs) -> None:
    _applied.clear()
TERMINAL = {"completed", "failed", "cancelled"}


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def apply_update(current: dict[str, Any] | None, update: StatusUpdate) -> dict[str, Any]:
    """The entry after an update; a finished entry keeps its final state."""
    entry = dict(current or {})
    changes = dict(update.changes)
    state_key = "status" if update.table == "training" else "state"
    if entry.get(state_key) in TERMINAL:
        for key in (state_key, "progress", "message"):
            changes.pop(key, None)
    for key, amount in update.increments.items():
        entry[key] = entry.get(key, 0) + amount
    entry.update(changes)
    entry["updated_at"] = now()
    return entry


@app.agent(status_topic)
async def apply_status_updates(stream):
    async for update in stream:
        table = TABLES.get(update.table)
        if table is None:
            logger.warning("status update for unknown table %r dropped", update.table)
            continue
        new = apply_update(entry(update.table, update.key), update)
        _applied[(update.table, update.key)] = new
        table[update.key] = new


async def publish_status(
    table: str, key: str, changes: dict[str, Any] | None = None, increments: dict[str, int] | None = None
) -> None:
    """Send a status change; it is applied in order with the other changes to the same entry."""
    await status_topic.send(key=key, value=StatusUpdate(
        table=table, key=key, changes=changes or {}, increments=increments or {}))
