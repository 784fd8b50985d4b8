"""Two workers in one group: they share sampling and sinking, and either answers any status request."""

from __future__ import annotations

import uuid

import pytest

from tests.exactly_once import assert_each_once, produced_ids, stored_ids
from tests.harness import Worker, free_port, wait_for
from warehouse.snowflake import SnowflakeWriter

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workers(kafka_broker, fakesnow_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale-out")
    shared = {"WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "t", "SNOWFLAKE_USER": "t", "SNOWFLAKE_PASSWORD": "t",
              "SNOWFLAKE_DATABASE": f"SCALE_{uuid.uuid4().hex[:8].upper()}", "SNOWFLAKE_HOST": "localhost",
              "SNOWFLAKE_PORT": str(fakesnow_server.port), "SNOWFLAKE_PROTOCOL": "http", "CHUNK_SIZE": "1000"}
    first = Worker(kafka_broker, tmp, **shared)
    second = first.twin("worker-second.log", WEB_PORT=str(free_port()), STATE_DIR=str(tmp / "state-second"))
    first.start()
    second.start()
    yield first, second
    second.stop()
    first.stop()


def test_two_workers_share_a_stream_and_both_answer_status(workers, fakesnow_server):
    first, second = workers
    task = first.post("/train", json={"method": "gaussian_copula"}).json()
    # the task is known on the other worker too: every worker reads every status update
    assert second.wait_training(task["task_id"])["status"] == "completed"
    stream_id = second.post("/stream", json={"num_samples": 20000, "batch_size": 1000}).json()["stream_id"]
    final = first.wait_stream(stream_id)
    assert final["state"] == "completed" and final["rows_landed"] == 20000
    assert second.get(f"/stream/{stream_id}").json()["rows_landed"] == 20000
    # every counter is exact on both workers: each folds the whole status topic itself
    for worker in workers:
        wait_for(lambda w=worker: (lambda v: v if (v["chunks_sent"], v["rows_sent"]) == (20, 20000) else None)(
            w.get(f"/stream/{stream_id}").json()), 30, f"exact counters on {worker.url}")
    # two sinks MERGE into one table whose key the server does not enforce (as Snowflake does not): row by row
    reader = SnowflakeWriter(account="t", user="t", password="t", database=first.env["SNOWFLAKE_DATABASE"],
                             **fakesnow_server.connect_args)
    try:
        assert_each_once(stored_ids(reader), produced_ids(final, chunk_size=1000))
    finally:
        reader.close()
    # both workers sampled and both sank: the work was shared through the partitions
    partitions = {r["kafka_partition"] for r in first.get(
        "/warehouse/records", params={"request_id": stream_id, "limit": 10000}).json()["records"]}
    assert len(partitions) > 1
    sank = [w.get("/health").json()["sink"]["landed"] for w in workers]
    assert all(n > 0 for n in sank) and sum(sank) == 20000
