"""The embedded broker (its own process) killed and started again on the same port under a running worker.

Tansu keeps nothing across its own restart: topics, records, consumer groups and committed offsets
are gone. The worker is not touched: its clients reconnect, its groups re-join, it re-creates the
topics, its status view reads the new status topic from the start, and new work runs end to end.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from broker.embedded import BrokerError, EmbeddedBroker
from tests.exactly_once import assert_each_once, produced_ids
from tests.harness import Worker, free_port, sink_offsets, wait_for

pytestmark = pytest.mark.integration


def start_broker(port: int, state_dir) -> EmbeddedBroker:
    broker = EmbeddedBroker(port, state_dir)
    try:
        assert broker.ensure(), f"something else already listens on port {port}"
    except BrokerError as exc:
        pytest.fail(f"the embedded Tansu broker could not start: {exc}", pytrace=False)
    return broker


def test_worker_works_again_after_the_broker_restarts(tmp_path):
    broker = start_broker(free_port(), tmp_path / "broker")  # its own, not the session's: this test kills it
    worker = Worker(broker.bootstrap, tmp_path)
    try:
        worker.start()
        task = worker.post("/train", json={"method": "gaussian_copula"}).json()
        assert worker.wait_training(task["task_id"])["status"] == "completed"
        before = worker.post("/stream", json={"num_samples": 3000, "batch_size": 1000}).json()["stream_id"]
        assert worker.wait_stream(before)["state"] == "completed"
        wait_for(lambda: worker.get(f"/stream/{before}").json()["rows_landed"] == 3000, 60, "3,000 rows before")

        broker.process.kill()
        broker.process.wait()
        wait_for(lambda: worker.get("/health").json()["parts"]["broker"]["status"] == "down", 30, "broker down")
        broker = start_broker(broker.port, tmp_path / "broker")  # empty: no topics, groups or offsets
        health = wait_for(lambda: (r := worker.get("/health")).status_code == 200 and r.json(), 60, "/health ok again")
        assert health["parts"]["broker"]["topics"] == "ok"

        resp = worker.post("/stream", json={"num_samples": 5000, "batch_size": 1000})
        assert resp.status_code == 202, resp.text
        after = worker.wait_stream(resp.json()["stream_id"], timeout=120)
        assert after["state"] == "completed", after
        wait_for(lambda: worker.get(f"/stream/{after['stream_id']}").json()["rows_landed"] == 5000, 60, "5,000 rows")
        # each of them once, next to the 3,000 stored before the restart
        summary = worker.get("/warehouse/summary").json()
        assert summary["row_count"] == summary["distinct_record_ids"] == 8000, summary
        # the sink commits its offsets on the new broker: records are acknowledged once stored
        wait_for(lambda: sink_offsets(worker) == (5000, 5000), 60, "the sink's offsets on the new broker")

        inline = worker.post("/generate", json={"num_samples": 100})
        assert inline.status_code == 200, inline.text
        assert len(inline.json()["records"]) == 100
        # this worker's status view keeps what it had folded before the restart
        assert worker.get(f"/stream/{before}").json()["state"] == "completed"
        assert worker.process.poll() is None, "the worker was restarted"

        # a second restart, under a running stream (2,000 rows a second, 100 s to go when the broker goes):
        # its planned chunks go with the broker, so it ends failed, saying how many rows had landed
        running = worker.post("/stream", json={"num_samples": 200_000, "batch_size": 1000,
                                               "interval_seconds": 0.5}).json()["stream_id"]
        wait_for(lambda: worker.get(f"/stream/{running}").json()["rows_landed"] >= 1000, 60, "the stream under way")
        broker.process.kill()
        broker.process.wait()
        broker = start_broker(broker.port, tmp_path / "broker")
        cut = worker.wait_stream(running, timeout=90)
        print(f"\nthe stream running through the restart ended {cut['state']}: {cut['error']}")
        assert cut["state"] == "failed", cut
        said = re.search(r"(\d+) of 200000 rows had landed: start the stream again", cut["error"])
        assert said and 1000 <= int(said.group(1)) < 200_000, cut["error"]
        streams = {s: worker.get(f"/stream/{s}").json() for s in (before, after["stream_id"], running)}
    finally:
        worker.stop()
        broker.stop()
    # each record once, by id: both whole streams, and of the cut one only records it produced
    with duckdb.connect(str(tmp_path / "state" / "warehouse.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT request_id, record_id FROM PATIENT_DATA").fetchall()
    by_stream = {s: [rid for request, rid in stored if request == s] for s in streams}
    assert sum(map(len, by_stream.values())) == len(stored), "rows of no stream of this test"
    assert_each_once(by_stream[before], produced_ids(streams[before]))
    assert_each_once(by_stream[after["stream_id"]], produced_ids(streams[after["stream_id"]]))
    cut_ids = by_stream[running]
    assert len(set(cut_ids)) == len(cut_ids) >= int(said.group(1)), "rows of the cut stream stored twice or lost"
    assert set(cut_ids) <= produced_ids(streams[running]), "rows stored that the cut stream never produced"
