"""Workers on different machines share models through an s3:// model store (a moto S3 server here)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.harness import Worker
from tests.models_store.moto_s3 import start_moto

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def two_machines(kafka_broker, s3, tmp_path_factory):
    """Two workers of separate apps sharing nothing but the bucket: own state, own model cache."""
    url = f"s3://{s3.new_bucket()}/models"
    trainer = Worker(kafka_broker, tmp_path_factory.mktemp("machine-a"), MODELS_DIR=url, **s3.env)
    sampler = Worker(kafka_broker, tmp_path_factory.mktemp("machine-b"), MODELS_DIR=url, **s3.env)
    with ThreadPoolExecutor(2) as starting:
        list(starting.map(Worker.start, (trainer, sampler)))
    yield trainer, sampler, url
    sampler.stop()
    trainer.stop()


def rows_of(records: list[dict]) -> list[dict]:
    """The sampled values, without what differs per request."""
    return [{k: v for k, v in r.items() if k not in ("record_id", "request_id", "generated_at")} for r in records]


def test_a_model_trained_on_one_worker_generates_rows_on_another(two_machines, s3):
    trainer, sampler, url = two_machines
    task = trainer.post("/train", json={"method": "gaussian_copula", "model_name": "shared",
                                        "holdout_fraction": 0}).json()
    done = trainer.wait_training(task["task_id"], timeout=120)
    assert done["status"] == "completed", done
    version = done["result"]["model_version"]
    assert done["result"]["model_path"] == f"{url}/shared/{version}/synthesizer.pkl"  # the object's URL
    assert (done["result"]["model_dir"], done["result"]["model_path_is_url"]) == (f"{url}/shared/{version}", True)

    # the other worker lists the version without having trained it, and samples from it
    assert sampler.get("/models").json()["models"] == [{"name": "shared", "latest_version": version,
                                                       "versions": [version]}]
    response = sampler.post("/generate", json={"num_samples": 50, "model_name": "shared",
                                               "model_version": version, "seed": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == version and len(body["records"]) == 50
    assert {r["model_version"] for r in body["records"]} == {version}
    # it loaded the synthesizer into its own cache, checked against the manifest's sha256
    manifest = s3.client().get_object(Bucket=url.split("/")[2], Key=f"models/shared/{version}/manifest.json")
    expected = json.loads(manifest["Body"].read())["synthesizer_sha256"]
    cache = sampler.tmp / "state" / "model-cache" / "sha256"
    assert [p.name for p in cache.iterdir()] == [f"{expected}.pkl"]
    assert sampler.get(f"/models/shared/versions/{version}").json()["dataset_rows"] == done["result"]["dataset_rows"]
    # the same seed gives the same rows on the worker that trained it
    again = trainer.post("/generate", json={"num_samples": 50, "model_name": "shared", "model_version": version,
                                            "seed": 3}).json()
    assert rows_of(again["records"]) == rows_of(body["records"])
    assert sampler.get("/health").json()["parts"]["model_store"] == {
        "status": "ok", "models": 1, "default_model": "cvd", "default_model_trained": False}
    for worker in (trainer, sampler):  # the secret key is a setting, never logged
        assert s3.env["MODELS_S3_SECRET_ACCESS_KEY"] not in worker.log_path.read_text(errors="replace")
