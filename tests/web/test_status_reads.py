"""Status answers come from the status view alone: zero warehouse statements, and every view agrees on each state.

The warehouse is a real DuckDB file behind a writer that counts each statement it runs.
"""

from __future__ import annotations

import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

import agents.status as status
from worker.app import app
from warehouse.duckdb import DuckDBWriter
from web.routes import create_app

STATES = ("running", "completed", "failed", "cancelled")


class CountingWriter(DuckDBWriter):
    """A DuckDB writer that counts the statements it is asked to run (reads, writes, pings)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.statements: list[str] = []
        self._count_lock = threading.Lock()

    def _count(self, what: str) -> None:
        with self._count_lock:
            self.statements.append(what)

    def query(self, sql, params=()):
        self._count(sql)
        return super().query(sql, params)

    def write(self, rows):
        self._count("write")
        return super().write(rows)

    def read(self, sql, limit):
        self._count(sql)
        return super().read(sql, limit)


@pytest.fixture
def counting_writer(tmp_path, monkeypatch):
    res = app.worker
    writer = CountingWriter(tmp_path / "warehouse.duckdb")
    writer.open()
    monkeypatch.setattr(res, "_writer", writer)
    yield writer
    writer.close()


@pytest.fixture
def streams_in_every_state(tables):
    ids = {}
    for index, state in enumerate(STATES):
        stream_id = f"reads-{state}"
        ids[state] = stream_id
        tables(status.streams, stream_id, {
            "stream_id": stream_id, "kind": "stream", "state": state, "num_samples": 1000,
            "rows_sent": 1000, "rows_landed": 1000 if state == "completed" else 400 + index,
            "created_at": "2026-12-01T10:00:00+00:00", "last_landed_at": "2026-12-01T10:00:04+00:00",
            "completed_at": None if state == "running" else "2026-12-01T10:00:04+00:00",
            "error": "boom" if state == "failed" else None})
    tables(status.training_tasks, "reads-task", {"task_id": "reads-task", "status": "completed", "progress": 100})
    return ids


async def test_status_views_run_no_warehouse_statement_and_agree(aiohttp_client, counting_writer,
                                                                 streams_in_every_state):
    client = await aiohttp_client(create_app(app.worker))
    single = {}
    for state, stream_id in streams_in_every_state.items():
        resp = await client.get(f"/stream/{stream_id}")
        assert resp.status == 200
        single[stream_id] = await resp.json()
    listed = {s["stream_id"]: s for s in (await (await client.get("/streams")).json())["streams"]
              if s["stream_id"] in single}
    for path in ("/train/tasks", "/train/status/reads-task"):
        assert (await client.get(path)).status == 200
    metrics = {f.name: f for f in text_string_to_metric_families(await (await client.get("/metrics")).text())}
    assert counting_writer.statements == []

    gauge = {s.labels["state"]: s.value for s in metrics["cardiosynth_streams"].samples}
    for state, stream_id in streams_in_every_state.items():
        assert single[stream_id]["state"] == listed[stream_id]["state"] == state
        assert single[stream_id]["rows_landed"] == listed[stream_id]["rows_landed"]
        assert gauge[state] >= 1  # other tests' entries may share the view
    completed = single[streams_in_every_state["completed"]]
    assert completed["rows_per_second"] == 250.0  # 1,000 rows landed 4 s after the start


async def test_a_finished_stream_cannot_be_cancelled(aiohttp_client, counting_writer, streams_in_every_state):
    client = await aiohttp_client(create_app(app.worker))
    for state in ("completed", "failed", "cancelled"):
        resp = await client.delete(f"/stream/{streams_in_every_state[state]}")
        assert resp.status == 409 and f"is already {state}" in (await resp.json())["error"]


async def test_warehouse_views_share_one_read_per_interval(aiohttp_client, counting_writer, monkeypatch):
    monkeypatch.setattr(app.worker.settings, "warehouse_read_seconds", 60.0)
    client = await aiohttp_client(create_app(app.worker))
    for _ in range(5):
        assert (await client.get("/warehouse/summary")).status == 200
        assert (await client.get("/warehouse/records?limit=10")).status == 200
    # the summary is two statements, the latest records one: run once for the five refreshes
    assert len(counting_writer.statements) == 3, counting_writer.statements
    monkeypatch.setattr(app.worker.settings, "warehouse_read_seconds", 0.0)
    assert (await client.get("/warehouse/summary")).status == 200
    assert len(counting_writer.statements) == 5
