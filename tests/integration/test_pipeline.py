"""The whole pipeline on the real embedded broker: train over HTTP, stream, land in DuckDB exactly once."""

from __future__ import annotations

import asyncio
import json

import pandas as pd
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from synthesis.datasets import snake_case_columns
from tests.exactly_once import assert_each_once, produced_ids
from tests.harness import ROOT, Worker, redeliver, wait_for

pytestmark = pytest.mark.integration
CATEGORICAL = ["general_health", "checkup", "exercise", "heart_disease", "skin_cancer", "other_cancer",
               "depression", "diabetes", "arthritis", "sex", "age_category", "smoking_history"]


@pytest.fixture(scope="module")
def worker(kafka_broker, tmp_path_factory):
    w = Worker(kafka_broker, tmp_path_factory.mktemp("pipeline")).start()
    yield w
    w.stop()


@pytest.fixture(scope="module")
def trained(worker):
    resp = worker.post("/train", json={"dataset_path": "cvd_sample_3463.csv", "model_name": "cvd",
                                       "method": "gaussian_copula", "overwrite_existing": False})
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["status"] == "started"
    final = worker.wait_training(body["task_id"])
    assert final["status"] == "completed", final
    return final


@pytest.fixture(scope="module")
def streamed(worker, trained):
    resp = worker.post("/stream", json={"num_samples": 5000, "batch_size": 1000, "interval_seconds": 0})
    assert resp.status_code == 202, resp.text
    final = worker.wait_stream(resp.json()["stream_id"])
    assert final["state"] == "completed", final
    return final


def warehouse_records(worker, request_id: str) -> list[dict]:
    resp = worker.get("/warehouse/records", params={"request_id": request_id, "limit": 10000})
    assert resp.status_code == 200, resp.text
    return resp.json()["records"]


def test_training_reports_progress_and_result(worker, trained):
    assert trained["progress"] == 100
    assert trained["result"]["model_version"] == 1
    assert trained["result"]["dataset_rows"] == 3463
    assert trained["started_at"] and trained["completed_at"]
    info = worker.get("/model/info").json()
    assert info["model_name"] == "cvd" and info["method"] == "gaussian_copula"
    assert info["dataset_rows"] == 3463 and info["training_rows"] == 2770  # 20% held out to evaluate on
    assert "heart_disease" in info["column_names"]
    metrics = info["metrics"]
    for key in ("quality_score", "tstr_auc", "trtr_auc", "dcr_share", "identical_to_training"):
        assert 0 <= metrics[key] <= 1, key
    assert metrics["bmi_off_share_with_rule"] <= metrics["bmi_off_share_without_rule"]


def test_the_evaluation_report_as_json_and_as_a_page(worker, trained):
    report = worker.get("/models/cvd/report").json()
    assert report["model_version"] == 1
    assert set(report["report"]) >= {"fidelity", "utility", "privacy", "plots"}
    page = worker.get("/models/cvd/report.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count("<svg") >= 19  # a distribution plot per column, and the heatmaps


def test_second_training_without_overwrite_is_409(worker, trained):
    resp = worker.post("/train", json={"model_name": "cvd", "method": "gaussian_copula"})
    assert resp.status_code == 409
    assert "overwrite_existing" in resp.json()["error"]


def test_the_id_a_post_returns_is_found_right_after(worker, trained):
    """Read-your-writes on the worker that answered: a GET sent as soon as the 202 arrives never answers 404."""
    started = []
    for _ in range(10):
        for path, body, field in (("/stream", {"num_samples": 10, "batch_size": 10}, "stream_id"),
                                  ("/generate", {"num_samples": 10, "send_to_kafka": True}, "request_id")):
            resp = worker.post(path, json=body)
            assert resp.status_code == 202, resp.text
            read = worker.get(f"/stream/{resp.json()[field]}")
            assert read.status_code == 200, read.text
            assert read.json()["state"] in ("pending", "running", "completed"), read.json()
            started.append(resp.json()[field])
    resp = worker.post("/train", json={"model_name": "cvd_read_back", "method": "gaussian_copula"})
    assert resp.status_code == 202, resp.text
    read = worker.get(f"/train/status/{resp.json()['task_id']}")
    assert read.status_code == 200 and read.json()["status"] in ("pending", "running"), read.text
    # the pending entries give way to the agents' own: every one of these ends as it should
    assert worker.wait_training(resp.json()["task_id"])["status"] == "completed"
    for stream_id in started:
        final = worker.wait_stream(stream_id)
        assert (final["state"], final["rows_landed"]) == ("completed", 10), final


def test_stream_lands_5000_distinct_records_in_training_categories(worker, streamed):
    assert streamed["rows_landed"] == 5000
    rows = warehouse_records(worker, streamed["stream_id"])
    assert_each_once((r["record_id"] for r in rows), produced_ids(streamed))
    real = pd.read_csv(ROOT / "data" / "cvd_sample_3463.csv")
    real.columns = snake_case_columns(list(real.columns))
    for column in CATEGORICAL:
        seen = {r[column] for r in rows}
        assert seen <= set(real[column].astype(str)), column
    assert all(r["kafka_topic"] == worker.topic("RECORDS_TOPIC") for r in rows)
    assert all(r["kafka_offset"] is not None and r["kafka_partition"] is not None for r in rows)


def test_redelivered_batch_is_stored_once(worker, streamed):
    topic = worker.topic("RECORDS_TOPIC")

    before = worker.get("/health").json()["sink"]
    sent = asyncio.run(redeliver(worker.env["KAFKA_BOOTSTRAP_SERVERS"], topic, 1000))
    assert sent == 1000, f"the replay sent {sent} records, not 1,000"
    sink = wait_for(lambda: (s := worker.get("/health").json()["sink"])["duplicates"] >= before["duplicates"] + sent
                    and s, 60, "the sink to see the redelivered batch")
    assert sink["duplicates"] - before["duplicates"] == sent and sink["landed"] == before["landed"], (before, sink)
    # row by row, not count == distinct: the DuckDB table's key would make that hold whatever the writer did
    assert_each_once((r["record_id"] for r in warehouse_records(worker, streamed["stream_id"])), produced_ids(streamed))
    # the status view's count, from the sinks' reports, is the table's: the replayed copies are not counted
    answer = worker.post("/warehouse/sql", json={
        "sql": f"SELECT count(*) FROM PATIENT_DATA WHERE request_id = '{streamed['stream_id']}'"}).json()
    stored = answer["rows"][0][0]
    assert worker.get(f"/stream/{streamed['stream_id']}").json()["rows_landed"] == stored == 5000


def test_raw_json_command_on_control_topic_is_carried_out(worker, trained):
    command = {"command": "stream", "num_samples": 300, "batch_size": 100, "model_name": "cvd"}

    async def send():
        producer = AIOKafkaProducer(bootstrap_servers=worker.env["KAFKA_BOOTSTRAP_SERVERS"])
        await producer.start()
        try:
            await producer.send_and_wait(worker.topic("CONTROL_TOPIC"), json.dumps(command).encode())
        finally:
            await producer.stop()

    known = {s["stream_id"] for s in worker.get("/streams").json()["streams"]}
    asyncio.run(send())
    new = wait_for(lambda: [s for s in worker.get("/streams").json()["streams"] if s["stream_id"] not in known],
                   60, "the raw command's stream")
    final = worker.wait_stream(new[0]["stream_id"])
    assert final["state"] == "completed" and final["rows_landed"] == 300


async def _read_all(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    found = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            found += [m for msgs in batch.values() for m in msgs]
    finally:
        await consumer.stop()
    return found


def test_malformed_records_go_to_the_dead_letter_topic(worker, streamed):
    good = warehouse_records(worker, streamed["stream_id"])[0]
    good = {k: v for k, v in good.items() if k not in ("ingested_at", "kafka_topic", "kafka_partition", "kafka_offset")}
    good["generated_at"] = str(good["generated_at"])
    good_new = dict(good, record_id="manual-good-1", request_id="manual")
    bad = [
        b"{not json",
        json.dumps(dict(good, record_id="bad-type", bmi="heavy", request_id="manual")).encode(),
        json.dumps(dict(good, record_id="bad-cat", sex="Unknown", request_id="manual")).encode(),
        json.dumps(dict(good, record_id="bad-col", shoe_size=44, request_id="manual")).encode(),
        json.dumps({k: v for k, v in good.items() if k != "record_id"}).encode(),
    ]
    bootstrap = worker.env["KAFKA_BOOTSTRAP_SERVERS"]

    async def send():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for value in bad + [json.dumps(good_new, default=str).encode()]:
                await producer.send(worker.topic("RECORDS_TOPIC"), value, key=b"k")
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(send())
    dead = asyncio.run(_read_all(bootstrap, worker.topic("DLQ_TOPIC"), len(bad)))
    assert len(dead) == len(bad)
    reasons = [dict(m.headers)["error"].decode() for m in dead]
    assert any("invalid JSON" in r for r in reasons)
    assert any("bmi" in r for r in reasons)
    assert any("sex" in r and "category" in r for r in reasons)
    assert any("shoe_size" in r for r in reasons)
    assert any("record_id" in r for r in reasons)
    wait_for(lambda: len(warehouse_records(worker, "manual")) == 1, 30, "the good record to land")


def test_invalid_control_message_is_dead_lettered(worker):
    bootstrap = worker.env["KAFKA_BOOTSTRAP_SERVERS"]

    async def send():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(worker.topic("CONTROL_TOPIC"), b'{"command": "explode"}')
            await producer.send_and_wait(worker.topic("CONTROL_TOPIC"), b'{"command": "stream", "num_samples": -5}')
        finally:
            await producer.stop()

    asyncio.run(send())
    dead = asyncio.run(_read_all(bootstrap, worker.topic("CONTROL_TOPIC") + "-dlq", 2))
    reasons = sorted(dict(m.headers)["error"].decode() for m in dead)
    assert len(reasons) == 2
    assert any("num_samples" in r for r in reasons)
    assert any("command" in r for r in reasons)
    assert worker.get("/health").status_code == 200


def test_cancel_stops_a_paced_stream(worker, trained):
    resp = worker.post("/stream", json={"num_samples": 100000, "batch_size": 100, "interval_seconds": 0.5})
    stream_id = resp.json()["stream_id"]
    wait_for(lambda: (worker.get(f"/stream/{stream_id}").json()["rows_landed"] or 0) > 0, 60, "first rows")
    assert worker.delete(f"/stream/{stream_id}").status_code == 202
    final = worker.wait_stream(stream_id)
    assert final["state"] == "cancelled"
    landed = final["rows_landed"]
    assert 0 < landed < 100000
    assert worker.delete(f"/stream/{stream_id}").status_code == 409
