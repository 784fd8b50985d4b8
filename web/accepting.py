"""Read-your-writes for the commands this worker accepted, without waiting for the control agent.

A view that starts work publishes its command (the broker has it once publish_command returns) and
records here the entry the control agent is about to publish, marked pending. Reads on this worker
answer with it until the status view has folded the agent's own entry for that id, which then wins.
Other workers know the id once they fold that update (what the status view of each worker does).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agents.generation import plan
from agents.status import now
from web.context import WORKER
from worker.schemas import GenerateCommand, StreamCommand, TrainCommand
from worker.state import StatusEntries


class Accepted:
    """Entries of commands accepted here and not yet in the worker's status view, by table and id."""

    def __init__(self, web_app: web.Application):
        self._web_app = web_app  # its worker is read when a request comes (CLI commands install the API without one)
        self._pending: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in StatusEntries.TABLES}

    @property
    def status(self) -> StatusEntries:
        return self._web_app[WORKER].status

    def add(self, table: str, key: str, entry: dict[str, Any]) -> None:
        pending = self._pending[table]
        for folded in [k for k in pending if self.status.get(table, k) is not None]:
            del pending[folded]  # the status view has the agent's entry: this one is no longer needed
        if self.status.get(table, key) is None:
            pending[key] = entry

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """The status view's entry, else the one accepted here."""
        return self.status.get(table, key) or self._pending[table].get(key)

    def entries(self, table: str) -> list[dict[str, Any]]:
        return self.status.entries(table) + [e for k, e in self._pending[table].items()
                                             if self.status.get(table, k) is None]


ACCEPTED = web.AppKey("accepted", Accepted)


def training_entry(command: TrainCommand) -> dict[str, Any]:
    """A training's entry until the control agent's first update (agents.training publishes the same fields)."""
    return {"task_id": command.id, "status": "pending", "progress": 0, "message": "queued",
            "model_name": command.model_name, "method": command.method, "dataset_path": command.dataset_path,
            "epochs": command.epochs, "created_at": now(), "started_at": None, "completed_at": None,
            "error": None, "result": None}


def stream_entry(command: StreamCommand | GenerateCommand, chunk_size: int) -> dict[str, Any]:
    """A stream's entry until the control agent's first update (agents.generation publishes the same fields)."""
    batch_size = getattr(command, "batch_size", chunk_size)
    interval = getattr(command, "interval_seconds", 0.0)
    return {"stream_id": command.id, "kind": command.command, "state": "pending", "num_samples": command.num_samples,
            "batch_size": batch_size, "interval_seconds": interval, "model_name": command.model_name,
            "model_version": command.model_version, "seed": command.seed, "conditions": command.conditions,
            "created_at": now(), "completed_at": None, "error": None,
            "chunks_scheduled": 0, "chunks_sent": 0, "rows_sent": 0,
            "chunks_total": plan(command.num_samples, batch_size, interval, chunk_size)["chunks_total"]}
