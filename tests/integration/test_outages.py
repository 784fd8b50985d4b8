"""Warehouse outages during a stream, on the real broker: nothing is acknowledged before it is stored,
/health reports the outage while it lasts, and every record lands exactly once when the warehouse is back."""

from __future__ import annotations

import os
import signal
import time
import uuid

import duckdb
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.exactly_once import assert_each_once, produced_ids, stored_ids
from tests.harness import Worker, records_from, sink_committed, sink_offsets as offsets, wait_for
from tests.warehouse.fakesnow_server import FakesnowServer, start_fakesnow
from warehouse.snowflake import SnowflakeWriter

pytestmark = pytest.mark.integration


def warehouse_part(worker: Worker) -> dict:
    resp = worker.get("/health")
    return dict(resp.json()["parts"]["warehouse"], http_status=resp.status_code)


def sink_retrying(worker: Worker, attempts: int = 1) -> dict | None:
    """The /health warehouse part once the service is 503 and the sink has failed `attempts` writes."""
    part = warehouse_part(worker)
    return part if part["http_status"] == 503 and part["sink"]["failed_attempts"] >= attempts else None


def start_stream(worker: Worker, rows: int) -> str:
    resp = worker.post("/stream", json={"num_samples": rows, "batch_size": 1000, "interval_seconds": 0.5})
    assert resp.status_code == 202, resp.text
    return resp.json()["stream_id"]


def landed(worker: Worker, stream_id: str) -> int:
    return worker.get(f"/stream/{stream_id}").json()["rows_landed"] or 0


def test_duckdb_held_by_another_process(kafka_broker, tmp_path):
    # Running as root, chmod does not make a file unwritable; a lock does: DuckDB lets one process open
    # a file, so an analyst who opens the warehouse (the DuckDB CLI, a notebook) shuts the writer out.
    worker = Worker(kafka_broker, tmp_path, DUCKDB_RELEASE_SECONDS="0.2", SINK_RETRY_MAX_SECONDS="1").start()
    try:
        task = worker.post("/train", json={"method": "gaussian_copula"}).json()
        assert worker.wait_training(task["task_id"])["status"] == "completed"
        stream_id = start_stream(worker, 12000)
        wait_for(lambda: landed(worker, stream_id) >= 2000, 120, "2,000 rows")

        path = tmp_path / "state" / "warehouse.duckdb"
        analyst = wait_for(lambda: _open_quietly(path), 30, "the worker to let go of the file between batches",
                           interval=0.02)
        try:
            part = wait_for(lambda: sink_retrying(worker, attempts=2), 60, "/health to report the sink retrying")
            assert part["status"] == "down" and "lock" in part["error"], part
            assert part["sink"]["down_since"] and "lock" in part["sink"]["last_error"]
            # records arrived that the sink could not store: none of them is acknowledged
            committed, end = wait_for(lambda: (o := offsets(worker))[1] - o[0] >= 1000 and o, 60, "a backlog")
            stored = analyst.execute("SELECT count(*) FROM PATIENT_DATA").fetchone()[0]
            assert committed <= stored < end
        finally:
            analyst.close()
        released = time.monotonic()

        final = worker.wait_stream(stream_id, timeout=120)
        wait_for(lambda: landed(worker, stream_id) == 12000, 60, "every row")
        recovered = wait_for(lambda: (p := warehouse_part(worker))["http_status"] == 200 and p, 30, "/health ok")
        print(f"\nDuckDB: all rows landed {time.monotonic() - released:.1f}s after the lock was released")
        assert final["state"] == "completed"
        assert recovered["sink"]["down_since"] is None and recovered["sink"]["retries_total"] >= 2
        assert offsets(worker) == (12000, 12000)
        produced = produced_ids(worker.get(f"/stream/{stream_id}").json())
    finally:
        worker.stop()
    with duckdb.connect(str(path), read_only=True) as con:  # row by row: not count == distinct, which the key ensures
        assert_each_once((r[0] for r in con.execute("SELECT record_id FROM PATIENT_DATA").fetchall()), produced)


def _open_quietly(path):
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException:
        return None  # the worker has it open


def _encrypted_key(folder, passphrase: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = folder / "snowflake-key.p8"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(passphrase.encode())))
    return path


def test_snowflake_frozen_then_restarted_empty(kafka_broker, tmp_path):
    # A server of this test's own: it is frozen (SIGSTOP: connections open, no answers, like a network
    # partition) and later killed and started again on the same port, without its data.
    server = start_fakesnow(tmp_path / "fakesnow")
    passphrase, database = f"pp-{uuid.uuid4().hex}", f"OUT_{uuid.uuid4().hex[:8].upper()}"
    worker = Worker(kafka_broker, tmp_path, WAREHOUSE="snowflake", SNOWFLAKE_ACCOUNT="cardiosynth-test",
                    SNOWFLAKE_USER="svc", SNOWFLAKE_PRIVATE_KEY_FILE=str(_encrypted_key(tmp_path, passphrase)),
                    SNOWFLAKE_PRIVATE_KEY_PASSPHRASE=passphrase, SNOWFLAKE_DATABASE=database,
                    SNOWFLAKE_HOST="localhost", SNOWFLAKE_PORT=str(server.port), SNOWFLAKE_PROTOCOL="http",
                    SNOWFLAKE_NETWORK_TIMEOUT="2", SINK_RETRY_MAX_SECONDS="1")
    worker.log_level = "debug"  # the connector's own debug lines are searched for the passphrase too

    def ids() -> list[str]:
        """Every record_id row in the server (the server, like Snowflake, would store a repeated one)."""
        reader = SnowflakeWriter(account="x", user="x", password="x", database=database, **server.connect_args)
        try:
            return stored_ids(reader)
        finally:
            reader.close()

    try:
        worker.start()
        task = worker.post("/train", json={"method": "gaussian_copula"}).json()
        assert worker.wait_training(task["task_id"])["status"] == "completed"
        first = start_stream(worker, 8000)
        wait_for(lambda: landed(worker, first) >= 2000, 120, "2,000 rows")

        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            frozen = time.monotonic()
            # the warehouse check gets no answer: /health says so within seconds, while the sink's write
            # waits out the connector's timeouts (SNOWFLAKE_NETWORK_TIMEOUT) and is retried
            wait_for(lambda: warehouse_part(worker)["http_status"] == 503, 60, "/health to report the outage")
            committed, _ = offsets(worker)
            wait_for(lambda: offsets(worker)[1] >= committed + 2000, 60, "records produced during the outage")
            assert offsets(worker)[0] == committed, "records were acknowledged while Snowflake was frozen"
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        thawed = time.monotonic()
        assert worker.wait_stream(first, timeout=120)["state"] == "completed"
        wait_for(lambda: landed(worker, first) == 8000, 90, "every row of the first stream")
        print(f"\nSnowflake frozen {thawed - frozen:.1f}s; every row landed {time.monotonic() - thawed:.1f}s after")
        assert_each_once(ids(), produced_ids(worker.get(f"/stream/{first}").json()))

        second = start_stream(worker, 6000)
        wait_for(lambda: landed(worker, second) >= 1000, 120, "1,000 rows of the second stream")
        server.proc.kill()
        server.proc.wait()
        killed = time.monotonic()
        wait_for(lambda: sink_retrying(worker), 90, "/health to report the sink retrying")
        acknowledged = sink_committed(worker)  # the sink commits nothing more until a write succeeds
        server = FakesnowServer(server.db_dir, port=server.port).start()
        # everything not acknowledged before the kill lands in the new, empty server, once
        wait_for(lambda: offsets(worker) == (14000, 14000), 120, "every record acknowledged")
        print(f"Snowflake restarted empty: the backlog landed {time.monotonic() - killed:.1f}s after the kill")
        assert sum(acknowledged.values()) < 14000
        # the new server holds exactly the records not acknowledged before the kill, each once, by id
        not_acknowledged = records_from(worker, acknowledged)
        assert len(not_acknowledged) == 14000 - sum(acknowledged.values())
        assert_each_once(ids(), not_acknowledged)
        assert wait_for(lambda: (p := warehouse_part(worker))["http_status"] == 200 and p, 30, "/health ok")

        log = worker.log_path.read_text(errors="replace")
        assert "reconnecting" in log  # the writer's own retries are logged, redacted
        assert passphrase not in log and passphrase not in worker.get("/health").text
    finally:
        worker.stop()
        server.stop()
