"""Faults on the real broker: a worker killed mid-stream, and a training whose worker died."""

from __future__ import annotations

import signal

import duckdb
import pytest

from synthesis.sampling import sample_chunk
from tests.exactly_once import assert_each_once, produced_ids
from tests.harness import Worker, train_sample_model, wait_for

pytestmark = pytest.mark.integration


def test_killed_worker_stream_resumes_and_lands_each_record_once(kafka_broker, tmp_path):
    env = {"HEARTBEAT_SECONDS": "1", "HEARTBEAT_TIMEOUT": "4", "CHUNK_SIZE": "5000"}
    first = Worker(kafka_broker, tmp_path, **env).start()
    try:
        task = first.post("/train", json={"method": "gaussian_copula"}).json()
        assert first.wait_training(task["task_id"])["status"] == "completed"
        resp = first.post("/stream", json={"num_samples": 100_000, "batch_size": 5000, "interval_seconds": 0.5})
        stream_id = resp.json()["stream_id"]
        wait_for(lambda: (first.get(f"/stream/{stream_id}").json()["rows_landed"] or 0) >= 20_000, 120, "20,000 rows")
    finally:
        first.stop(signal.SIGKILL)
    # the broker (its own process) keeps the topics; a new worker with the same identity takes over
    second = first.twin("worker-restarted.log").start()
    try:
        final = second.wait_stream(stream_id, timeout=300)
        assert final["state"] == "completed", final
        wait_for(lambda: second.get(f"/stream/{stream_id}").json()["rows_landed"] == 100_000, 60, "every row")
        version = second.get("/models/cvd/versions/1").json()["version"]
    finally:
        second.stop()
    # every record, read from the warehouse file once the worker let go of it
    with duckdb.connect(str(tmp_path / "state" / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM PATIENT_DATA")
        names = [d[0].lower() for d in cur.description]
        rows = cur.fetchall()
    assert names[0] == "record_id"
    assert_each_once((row[0] for row in rows), produced_ids(final))  # 100,000 rows, each record_id once
    landed = {row[0]: dict(zip(names, row)) for row in rows}
    # every record equals the one its chunk's seed regenerates
    for index in range(20):
        chunk = {"request_id": stream_id, "chunk_index": index, "num_rows": 5000, "model_name": "cvd",
                 "model_version": version, "generated_at": None, "seed": None}
        for row in sample_chunk(chunk, second.env["MODELS_DIR"]):
            stored = landed.pop(row["record_id"])
            assert {k: stored[k] for k in row if k != "generated_at"} == {k: v for k, v in row.items()
                                                                          if k != "generated_at"}
    assert not landed  # no record the chunks do not regenerate


def landed_in_table(path, request_id: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM PATIENT_DATA WHERE request_id = ?", [request_id]).fetchone()[0]


def test_a_worker_killed_between_write_and_commit_keeps_the_landed_count_exact(kafka_broker, tmp_path):
    # the first worker writes its sink's 3rd batch, reports it on the status topic, and is killed before
    # its commit: the second worker writes that batch again and its report repeats the same offsets
    env = {"HEARTBEAT_SECONDS": "1", "HEARTBEAT_TIMEOUT": "4", "CHUNK_SIZE": "1000", "SINK_BATCH_SIZE": "1000"}
    train_sample_model(tmp_path / "models")
    first = Worker(kafka_broker, tmp_path, SINK_KILL_BEFORE_COMMIT="3", **env).start()
    try:
        stream_id = first.post("/stream", json={"num_samples": 20_000, "batch_size": 1000,
                                                "interval_seconds": 0.2}).json()["stream_id"]
        assert first.process.wait(timeout=120) == -signal.SIGKILL, first.log_tail()
        assert "killing this worker before committing batch 3" in first.log_tail()
    finally:
        first.stop(signal.SIGKILL)
    second = first.twin("worker-after-kill.log", SINK_KILL_BEFORE_COMMIT="0").start()
    try:
        final = second.wait_stream(stream_id, timeout=300)
        assert final["state"] == "completed", final
        streams = second.get("/streams").json()["streams"]
        metrics = second.get("/metrics").text
    finally:
        second.stop()
    stored = landed_in_table(tmp_path / "state" / "warehouse.duckdb", stream_id)
    assert final["rows_landed"] == stored == 20_000, (final["rows_landed"], stored)
    assert [s["rows_landed"] for s in streams if s["stream_id"] == stream_id] == [20_000]
    assert "cardiosynth_records_landed_total 20000.0" in metrics


def test_training_of_a_dead_worker_ends_failed(kafka_broker, tmp_path):
    env = {"HEARTBEAT_SECONDS": "1", "HEARTBEAT_TIMEOUT": "4"}
    first = Worker(kafka_broker, tmp_path, **env).start()
    try:
        task = first.post("/train", json={"method": "ctgan", "epochs": 300}).json()
        wait_for(lambda: first.get(f"/train/status/{task['task_id']}").json()["status"] == "running", 60, "running")
    finally:
        first.stop(signal.SIGKILL)
    second = first.twin("worker-restarted.log").start()
    try:
        final = second.wait_training(task["task_id"], timeout=120)
        assert final["status"] == "failed"
        assert "worker running this training stopped" in final["error"]
    finally:
        second.stop()
