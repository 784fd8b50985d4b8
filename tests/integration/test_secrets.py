"""No secret in any line the worker writes or answers: a train and a stream into Snowflake (fakesnow, so
the password is really sent) at debug level, with the API token, a SASL password and a passphrase set."""

from __future__ import annotations

import uuid

import pytest

from tests.harness import Worker, wait_for

pytestmark = pytest.mark.integration


def test_no_secret_in_logs_health_metrics_or_error_bodies(kafka_broker, fakesnow_server, tmp_path):
    secrets = {name: f"{name.lower()}-{uuid.uuid4().hex}" for name in (
        "SNOWFLAKE_PASSWORD", "API_TOKEN", "KAFKA_SASL_PASSWORD", "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")}
    # set but unused: the passphrase (no key file, the password logs in) and SASL (the broker is PLAINTEXT)
    worker = Worker(kafka_broker, tmp_path, WAREHOUSE="snowflake", SNOWFLAKE_ACCOUNT="cardiosynth-test",
                    SNOWFLAKE_USER="tester", SNOWFLAKE_DATABASE=f"SEC_{uuid.uuid4().hex[:8].upper()}",
                    SNOWFLAKE_HOST="localhost", SNOWFLAKE_PORT=str(fakesnow_server.port), SNOWFLAKE_PROTOCOL="http",
                    KAFKA_SASL_USERNAME="cardiosynth", **secrets)
    worker.log_level = "debug"
    auth = {"Authorization": f"Bearer {secrets['API_TOKEN']}"}
    try:
        worker.start()
        task = worker.post("/train", json={"method": "gaussian_copula"}, headers=auth).json()
        assert worker.wait_training(task["task_id"])["status"] == "completed"
        stream_id = worker.post("/stream", json={"num_samples": 5000}, headers=auth).json()["stream_id"]
        wait_for(lambda: worker.get(f"/stream/{stream_id}").json()["rows_landed"] == 5000, 120, "5,000 rows")
        calls = [
            worker.post("/generate", json={"num_samples": 5}),  # 401
            worker.post("/generate", json={"num_samples": 5}, headers={"Authorization": "Bearer wrong"}),  # 403
            worker.post("/train", json={"epochs": "many"}, headers=auth),  # 422
            worker.post("/generate", data=b"{not json", headers={**auth, "content-type": "application/json"}),
            worker.get("/health"), worker.get("/metrics"), worker.get("/warehouse/summary"), worker.get("/streams"),
            worker.get(f"/stream/{stream_id}"), worker.get("/train/tasks"),
        ]
        assert [c.status_code for c in calls[:5]] == [401, 403, 422, 400, 200], [c.text for c in calls[:5]]
        answers = [f"{c.status_code} {c.headers} {c.text}" for c in calls]
    finally:
        worker.stop()
    lines = worker.log_path.read_text(errors="replace").splitlines()
    assert any("Snowflake: writing to" in line for line in lines) and any("[DEBUG]" in line for line in lines)
    for name, secret in secrets.items():
        for number, line in enumerate(lines + answers):
            assert secret not in line, f"{name} leaked in line {number}: {line[:300]}"
