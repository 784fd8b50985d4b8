"""The pipeline into Snowflake (a fakesnow server, the real connector) on the real embedded broker."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from analysis import QUERIES
from tests.exactly_once import assert_each_once, produced_ids, stored_ids
from tests.harness import Worker, redeliver, wait_for
from warehouse.duckdb import DuckDBWriter
from warehouse.snowflake import SnowflakeWriter

pytestmark = pytest.mark.integration
PASSWORD = f"sf-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def database():
    return f"CS_{uuid.uuid4().hex[:10].upper()}"


@pytest.fixture(scope="module")
def worker(kafka_broker, fakesnow_server, database, tmp_path_factory):
    w = Worker(kafka_broker, tmp_path_factory.mktemp("snowflake-pipeline"), WAREHOUSE="snowflake",
               SNOWFLAKE_ACCOUNT="cardiosynth-test", SNOWFLAKE_USER="tester", SNOWFLAKE_PASSWORD=PASSWORD,
               SNOWFLAKE_DATABASE=database, SNOWFLAKE_HOST="localhost", SNOWFLAKE_PORT=str(fakesnow_server.port),
               SNOWFLAKE_PROTOCOL="http", SESSION_TIMEOUT="6").start()  # a group join waits half of it; twice here
    yield w
    w.stop()


@pytest.fixture(scope="module")
def snowflake(fakesnow_server, database):
    writer = SnowflakeWriter(account="cardiosynth-test", user="tester", password=PASSWORD, database=database,
                             **fakesnow_server.connect_args)
    yield writer
    writer.close()


@pytest.fixture(scope="module")
def streamed(worker):
    task = worker.post("/train", json={"method": "gaussian_copula"}).json()
    assert worker.wait_training(task["task_id"])["status"] == "completed"
    resp = worker.post("/stream", json={"num_samples": 20000, "batch_size": 5000})
    assert resp.status_code == 202, resp.text
    final = worker.wait_stream(resp.json()["stream_id"])
    assert final["state"] == "completed", final
    return final


def test_20000_records_land_once_with_their_kafka_offsets(streamed, snowflake):
    # the server does not enforce the primary key (as Snowflake does not): only the writer's MERGE keeps ids once
    assert_each_once(stored_ids(snowflake), produced_ids(streamed))
    row = snowflake.query(
        "SELECT count(kafka_offset) AS offsets, count(kafka_partition) AS partitions, count(kafka_topic) AS topics "
        "FROM PATIENT_DATA")[0]
    assert row == {"offsets": 20000, "partitions": 20000, "topics": 20000}


def test_analysis_sql_through_the_worker_reads_snowflake(worker, streamed, database):
    resp = worker.post("/warehouse/sql", json={
        "sql": f"SELECT heart_disease, COUNT(*) as count FROM {database}.SYNTHETIC_DATA.PATIENT_DATA "
               "GROUP BY heart_disease;"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [c.lower() for c in body["columns"]] == ["heart_disease", "count"] and body["warehouse"] == "snowflake"
    assert sum(row[1] for row in body["rows"]) == 20000
    refused = worker.post("/warehouse/sql", json={"sql": f"DELETE FROM {database}.SYNTHETIC_DATA.PATIENT_DATA"})
    assert refused.status_code == 422 and "DELETE statements are refused" in refused.json()["error"]
    failed = worker.post("/warehouse/sql", json={"sql": "SELECT * FROM NO_SUCH_TABLE"})
    assert failed.status_code == 400, failed.text


def test_a_redelivered_batch_is_stored_once(worker, streamed, snowflake):
    topic, bootstrap = worker.topic("RECORDS_TOPIC"), worker.env["KAFKA_BOOTSTRAP_SERVERS"]

    before = worker.get("/health").json()["sink"]
    sent = asyncio.run(redeliver(bootstrap, topic, 2000))
    assert sent == 2000, f"the replay sent {sent} records, not 2,000"
    sink = wait_for(lambda: (s := worker.get("/health").json()["sink"])["duplicates"] >= before["duplicates"] + sent
                    and s, 60, "the redelivery")
    # every replayed record was read and recognised as stored: none landed again, none went elsewhere
    assert sink["duplicates"] - before["duplicates"] == sent and sink["landed"] == before["landed"], (before, sink)
    assert_each_once(stored_ids(snowflake), produced_ids(streamed))


def test_a_replay_across_a_sink_restart_lands_nothing_twice(worker, streamed, snowflake):
    """Records written but not acknowledged when a sink stops are read again by the next one: here the
    worker stops, the records are produced again while it is down, and the restarted sink reads them."""
    worker.stop()
    sent = asyncio.run(redeliver(worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.topic("RECORDS_TOPIC"), 3000))
    assert sent == 3000, f"the replay sent {sent} records, not 3,000"
    worker.start()  # a new sink, its counters at 0, on the group's committed offsets
    sink = wait_for(lambda: (s := worker.get("/health").json()["sink"])["duplicates"] >= sent and s, 90,
                    "the restarted sink to read the replay")
    assert sink["duplicates"] == sent and sink["landed"] == 0, sink
    assert_each_once(stored_ids(snowflake), produced_ids(streamed))
    # the restarted worker's status view, folded from the status topic, counts what the table holds
    stored = snowflake.query("SELECT count(*) AS n FROM PATIENT_DATA WHERE request_id = ?",
                             (streamed["stream_id"],))[0]["n"]
    assert worker.get(f"/stream/{streamed['stream_id']}").json()["rows_landed"] == stored == 20000


def test_malformed_records_go_to_the_dead_letter_topic_and_good_ones_land(worker, streamed, snowflake):
    sample = worker.get("/warehouse/records", params={"limit": 1}).json()["records"][0]
    good = {k: (str(v) if k == "generated_at" else v) for k, v in sample.items()
            if k not in ("ingested_at", "kafka_topic", "kafka_partition", "kafka_offset")}
    good.update(record_id="sf-good-1", request_id="sf-manual")
    bad = [b"[1, 2", json.dumps(dict(good, record_id="sf-bad", bmi="x")).encode(),
           json.dumps(dict(good, record_id="sf-bad2", age_category="200+")).encode(),
           json.dumps(dict(good, record_id="sf-big", request_id="x" * 70_000)).encode()]  # over 64 KiB
    bootstrap = worker.env["KAFKA_BOOTSTRAP_SERVERS"]

    async def send_and_read_dlq():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        for value in bad + [json.dumps(good).encode()]:
            await producer.send(worker.topic("RECORDS_TOPIC"), value)
        await producer.flush()
        await producer.stop()
        consumer = AIOKafkaConsumer(worker.topic("DLQ_TOPIC"), bootstrap_servers=bootstrap,
                                    auto_offset_reset="earliest", group_id=None)
        await consumer.start()
        found = []
        try:
            for _ in range(60):
                batch = await consumer.getmany(timeout_ms=500)
                found += [m for ms in batch.values() for m in ms]
                if len(found) >= len(bad):
                    break
        finally:
            await consumer.stop()
        return found

    dead = asyncio.run(send_and_read_dlq())
    reasons = sorted(dict(m.headers)["error"].decode() for m in dead)
    assert len(reasons) == 4
    assert any("bytes exceeds 65536" in r for r in reasons)
    assert any("invalid JSON" in r for r in reasons)
    assert any("bmi" in r for r in reasons)
    assert any("age_category" in r for r in reasons)
    wait_for(lambda: snowflake.query("SELECT count(*) AS n FROM PATIENT_DATA WHERE request_id = 'sf-manual'")[0]["n"]
             == 1, 60, "the good record in Snowflake")


def test_analysis_queries_give_the_same_numbers_on_duckdb_and_snowflake(streamed, snowflake, tmp_path):
    rows = snowflake.query(f"SELECT * FROM PATIENT_DATA WHERE request_id = '{streamed['stream_id']}'")
    duck = DuckDBWriter(tmp_path / "same.duckdb")
    duck.open()
    assert duck.write(rows) == 20000
    sf_db = snowflake.database
    try:
        snowflake.query(f"CREATE OR REPLACE TABLE {sf_db}.SYNTHETIC_DATA.SAME_ROWS AS SELECT * FROM PATIENT_DATA "
                        f"WHERE request_id = '{streamed['stream_id']}'")
        for name, sql in QUERIES.items():
            on_duckdb = duck.query(sql)
            on_snowflake = snowflake.query(sql.replace("PATIENT_DATA", "SAME_ROWS"))
            assert len(on_duckdb) == len(on_snowflake) > 0, name
            if name == "latest_records":
                continue  # one batch shares an ingestion time: the ties are ordered by record_id on both
            normalise = lambda rs: [{k: (round(float(v), 2) if isinstance(v, (int, float)) or hasattr(v, "as_tuple")
                                         else v) for k, v in r.items()} for r in rs]
            assert normalise(on_duckdb) == normalise(on_snowflake), name
    finally:
        duck.close()


def test_no_secret_in_the_worker_log_or_health(worker, streamed):
    assert PASSWORD not in worker.log_path.read_text(errors="replace")
    assert PASSWORD not in worker.get("/health").text
