"""Faults on the real broker: a worker killed mid-stream, and a training whose worker died."""

from __future__ import annotations

import signal

import pytest

from synthesis.sampling import sample_chunk
from tests.harness import Worker, wait_for

pytestmark = pytest.mark.integration


def test_killed_worker_stream_resumes_and_lands_each_record_once(kafka_broker, tmp_path):
    env = {"HEARTBEAT_SECONDS": "1", "HEARTBEAT_TIMEOUT": "4", "CHUNK_SIZE": "1000"}
    first = Worker(kafka_broker, tmp_path, **env).start()
    try:
        task = first.post("/train", json={"method": "gaussian_copula"}).json()
        assert first.wait_training(task["task_id"])["status"] == "completed"
        resp = first.post("/stream", json={"num_samples": 20000, "batch_size": 1000, "interval_seconds": 0.2})
        stream_id = resp.json()["stream_id"]
        wait_for(lambda: (first.get(f"/stream/{stream_id}").json()["rows_landed"] or 0) >= 3000, 120, "3,000 rows")
    finally:
        first.stop(signal.SIGKILL)
    # the broker (its own process) keeps the topics; a new worker with the same identity takes over
    second = first.twin("worker-restarted.log").start()
    try:
        final = second.wait_stream(stream_id, timeout=300)
        assert final["state"] == "completed", final
        assert final["rows_landed"] == 20000
        summary = second.get("/warehouse/summary").json()
        assert summary["row_count"] == summary["distinct_record_ids"] == 20000
        landed = {r["record_id"]: r for r in second.get(
            "/warehouse/records", params={"request_id": stream_id, "limit": 10000}).json()["records"]}
        manifest = second.get("/models/cvd/versions/1").json()
        # every record equals the one its chunk's seed regenerates
        for index in (0, 7, 19):
            chunk = {"request_id": stream_id, "chunk_index": index, "num_rows": 1000, "model_name": "cvd",
                     "model_version": manifest["version"], "generated_at": "x", "seed": None}
            for row in sample_chunk(chunk, second.env["MODELS_DIR"])[:50]:
                if row["record_id"] in landed:
                    stored = landed[row["record_id"]]
                    assert all(stored[k] == row[k] for k in ("general_health", "age_category", "bmi", "sex"))
    finally:
        second.stop()


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
