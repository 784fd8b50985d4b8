"""The HTTP API, built with create_app() and called through aiohttp_client: bad input never becomes work or a 5xx.

Kafka is cut out by replacing publish_command (and, as a backstop, the control topic's send) with mocks.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import orjson
import pytest

import agents.control as control
import agents.lost_topics as lost_topics
import agents.status as status
import web.generation
import web.training
from worker.schemas import CancelCommand, GenerateCommand, StreamCommand, TrainCommand
from models_store import ModelStore
from worker.app import app
from tests.harness import ROOT
from tests.harness import free_port
from web.middleware import MIDDLEWARES
from web.routes import create_app, install

SAMPLE = "cvd_sample_3463.csv"
MB = 1_048_576


@pytest.fixture
def publish(monkeypatch):
    """The mock every command goes through; the control topic itself must never be sent to."""
    published = mock.AsyncMock(name="publish_command")
    topic_send = mock.AsyncMock(name="control_topic.send")
    for module in (web.training, web.generation):
        monkeypatch.setattr(module, "publish_command", published)
    monkeypatch.setattr(control.control_topic, "send", topic_send)
    yield published
    topic_send.assert_not_called()


@pytest.fixture
async def client(aiohttp_client, publish):
    return await aiohttp_client(create_app(app.worker))


@pytest.fixture
def store():
    return app.worker.store


@pytest.fixture
def model(store):
    """A model in the real store (a stand-in synthesizer file: these views never unpickle it)."""
    name = f"m_{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        staging = store.staging_dir()
        (staging / "synthesizer.pkl").write_bytes(b"stand-in")
        (staging / "metadata.json").write_text("{}")
        store.publish(name, staging, {"method": "gaussian_copula", "rows": 3463, "dataset_path": SAMPLE,
                                      "columns": [{"name": "bmi", "sdtype": "numerical"},
                                                  {"name": "heart_disease", "sdtype": "categorical",
                                                   "categories": ["No", "Yes"]}],
                                      "parameters": {}, "training_seconds": 1.0, "versions": {"sdv": "2.0.0"}})
    yield name
    shutil.rmtree(store.root / name, ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A data dir holding the sample, a symlink leading out of it and a file that is not CSV."""
    root = tmp_path / "data"
    root.mkdir()
    shutil.copy(ROOT / "data" / SAMPLE, root / SAMPLE)
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    (root / "escape.csv").symlink_to(tmp_path / "secret.csv")
    (root / "notes.txt").write_text("not a table")
    res = app.worker
    monkeypatch.setattr(res, "settings", res.settings.model_copy(update={"data_dir": root}))
    return root


def no_models(store: ModelStore) -> None:
    default = app.worker.settings.default_model
    assert not store.exists(default), "these cases need an empty model store"


# --- bad input, one table for every endpoint -----------------------------------------------------


@dataclass
class Bad:
    method: str
    path: str
    status: int
    says: tuple[str, ...]  # fragments the "error" message must contain
    json: Any = field(default=None)
    data: bytes | str | None = None
    content_type: str | None = "application/json"
    fields: tuple[str, ...] = ()  # fields the 422 detail must name
    data_dir: bool = False  # use the data dir with a symlink leading out


def j(value) -> bytes:
    return orjson.dumps(value)


BIG = b'{"num_samples": 5, "pad": "' + b"x" * MB + b'"}'

BAD = {
    # -- malformed, non-object, content type, size: every body-taking endpoint
    "train-malformed": Bad("POST", "/train", 400, ("malformed JSON",), data=b'{"method": '),
    "train-trailing-garbage": Bad("POST", "/train", 400, ("malformed JSON",), data=b'{"method": "tvae"} x'),
    "train-nan": Bad("POST", "/train", 400, ("malformed JSON",), data=b'{"epochs": NaN}'),
    "train-deeply-nested": Bad("POST", "/train", 400, ("malformed JSON", "depth limit"), data=b"[" * 5000),
    "train-invalid-utf8": Bad("POST", "/train", 400, ("malformed JSON", "UTF-8"), data=b'{"model_name": "\xff"}'),
    "train-list": Bad("POST", "/train", 400, ("JSON object",), data=b"[1, 2]"),
    "train-null": Bad("POST", "/train", 400, ("JSON object",), data=b"null"),
    "train-text-plain": Bad("POST", "/train", 415, ("expected application/json", "text/plain"),
                            data=b'{"method": "tvae"}', content_type="text/plain"),
    "train-form": Bad("POST", "/train", 415, ("application/x-www-form-urlencoded",), data=b"method=tvae",
                      content_type="application/x-www-form-urlencoded"),
    "train-too-large": Bad("POST", "/train", 413, ("1048576",), data=BIG),
    "generate-malformed": Bad("POST", "/generate", 400, ("malformed JSON",), data=b"{num_samples: 5}"),
    "generate-string": Bad("POST", "/generate", 400, ("JSON object",), data=b'"five"'),
    "generate-number": Bad("POST", "/generate", 400, ("JSON object",), data=b"5"),
    "generate-no-content-type": Bad("POST", "/generate", 415, ("expected application/json",),
                                    data=b'{"num_samples": 5}', content_type="application/octet-stream"),
    "generate-too-large": Bad("POST", "/generate", 413, ("1048576",), data=BIG),
    "stream-malformed": Bad("POST", "/stream", 400, ("malformed JSON",), data=b'{"num_samples": 5,}'),
    "stream-list": Bad("POST", "/stream", 400, ("JSON object",), data=b"[]"),
    "stream-xml": Bad("POST", "/stream", 415, ("application/xml",), data=b"<num_samples>5</num_samples>",
                      content_type="application/xml"),
    "stream-too-large": Bad("POST", "/stream", 413, ("1048576",), data=BIG),
    # -- /train fields
    "train-epochs-zero": Bad("POST", "/train", 422, ("epochs",), json={"method": "ctgan", "epochs": 0},
                             fields=("epochs",)),
    "train-epochs-too-many": Bad("POST", "/train", 422, ("epochs must be at most 5000",),
                                 json={"method": "ctgan", "epochs": 5001}, fields=("epochs",)),
    "train-epochs-text": Bad("POST", "/train", 422, ("epochs",), json={"method": "tvae", "epochs": "ten"},
                             fields=("epochs",)),
    "train-epochs-for-copula": Bad("POST", "/train", 422, ("does not train in epochs",),
                                   json={"method": "gaussian_copula", "epochs": 10}),
    "train-unknown-method": Bad("POST", "/train", 422, ("unknown method 'gan'", "gaussian_copula"),
                                json={"method": "gan"}),
    "train-method-number": Bad("POST", "/train", 422, ("method",), json={"method": 3}, fields=("method",)),
    "train-unknown-parameter": Bad("POST", "/train", 422, ("unknown parameter 'learning_rate'", "ctgan"),
                                   json={"method": "ctgan", "parameters": {"learning_rate": 0.1}}),
    "train-batch-not-pac-multiple": Bad("POST", "/train", 422, ("batch_size (505) must be a multiple of pac",),
                                        json={"method": "ctgan", "parameters": {"batch_size": 505}}),
    "train-parameter-out-of-range": Bad("POST", "/train", 422, ("embedding_dim must be <= 4096",),
                                        json={"method": "tvae", "parameters": {"embedding_dim": 10**6}}),
    "train-parameters-list": Bad("POST", "/train", 422, ("parameters",), json={"parameters": [1]},
                                 fields=("parameters",)),
    "train-model-name-unicode": Bad("POST", "/train", 422, ("model_name",), json={"model_name": "naïve"},
                                    fields=("model_name",)),
    "train-model-name-nul": Bad("POST", "/train", 422, ("model_name",), json={"model_name": "a\x00b"},
                                fields=("model_name",)),
    "train-model-name-65": Bad("POST", "/train", 422, ("model_name",), json={"model_name": "x" * 65},
                               fields=("model_name",)),
    "train-model-name-traversal": Bad("POST", "/train", 422, ("model_name",), json={"model_name": "../x"},
                                      fields=("model_name",)),
    "train-model-name-empty": Bad("POST", "/train", 422, ("model_name",), json={"model_name": ""},
                                  fields=("model_name",)),
    "train-model-name-number": Bad("POST", "/train", 422, ("model_name",), json={"model_name": 7},
                                   fields=("model_name",)),
    "train-overwrite-not-bool": Bad("POST", "/train", 422, ("overwrite_existing",),
                                    json={"overwrite_existing": "maybe"}, fields=("overwrite_existing",)),
    "train-extra-field": Bad("POST", "/train", 422, ("bogus", "Extra inputs"), json={"bogus": 1},
                             fields=("bogus",)),
    "train-extra-fields": Bad("POST", "/train", 422, ("command", "id"), json={"command": "train", "id": "x"},
                              fields=("command", "id")),
    "train-dataset-path-number": Bad("POST", "/train", 422, ("dataset_path",), json={"dataset_path": 5},
                                     fields=("dataset_path",)),
    "train-dataset-path-huge": Bad("POST", "/train", 422, ("dataset_path",), json={"dataset_path": "a" * 2000},
                                   fields=("dataset_path",)),
    # -- dataset_path: 400 naming dataset_path
    "train-dataset-parent": Bad("POST", "/train", 400, ("dataset_path", "outside the data directory"),
                                json={"dataset_path": "../x.csv"}),
    "train-dataset-etc-passwd": Bad("POST", "/train", 400, ("dataset_path", "outside the data directory"),
                                    json={"dataset_path": "/etc/passwd"}),
    "train-dataset-deep-parent": Bad("POST", "/train", 400, ("dataset_path", "outside"),
                                     json={"dataset_path": "a/../../../../etc/passwd"}),
    "train-dataset-encoded-dots": Bad("POST", "/train", 400, ("dataset_path", "does not exist"),
                                      json={"dataset_path": "%2e%2e/x.csv"}),
    "train-dataset-missing": Bad("POST", "/train", 400, ("dataset_path", "does not exist"),
                                 json={"dataset_path": "nope.csv"}),
    "train-dataset-nul": Bad("POST", "/train", 400, ("dataset_path", "NUL"),
                             json={"dataset_path": f"{SAMPLE}\x00.txt"}),
    "train-dataset-empty": Bad("POST", "/train", 400, ("dataset_path",), json={"dataset_path": ""}),
    "train-dataset-symlink-out": Bad("POST", "/train", 400, ("dataset_path", "outside the data directory"),
                                     json={"dataset_path": "escape.csv"}, data_dir=True),
    "train-dataset-not-csv": Bad("POST", "/train", 400, ("dataset_path", "not a .csv file"),
                                 json={"dataset_path": "notes.txt"}, data_dir=True),
    "train-dataset-dir": Bad("POST", "/train", 400, ("dataset_path", "outside the data directory"),
                             json={"dataset_path": "."}),
    # -- /generate fields
    "generate-empty-body": Bad("POST", "/generate", 422, ("num_samples", "Field required"), data=b"",
                               fields=("num_samples",)),
    "generate-missing-num-samples": Bad("POST", "/generate", 422, ("num_samples", "Field required"), json={},
                                        fields=("num_samples",)),
    "generate-negative": Bad("POST", "/generate", 422, ("num_samples", "greater than or equal to 1"),
                             json={"num_samples": -5}, fields=("num_samples",)),
    "generate-zero": Bad("POST", "/generate", 422, ("num_samples",), json={"num_samples": 0},
                         fields=("num_samples",)),
    "generate-enormous": Bad("POST", "/generate", 422, ("num_samples must be at most 100000", "inline"),
                             json={"num_samples": 10**12}),
    "generate-enormous-kafka": Bad("POST", "/generate", 422, ("num_samples must be at most 10000000", "Kafka"),
                                   json={"num_samples": 10**12, "send_to_kafka": True}),
    "generate-beyond-64-bits": Bad("POST", "/generate", 422, ("num_samples",), data=b'{"num_samples": ' +
                                   b"9" * 30 + b"}"),
    "generate-text": Bad("POST", "/generate", 422, ("num_samples", "valid integer"), json={"num_samples": "lots"},
                         fields=("num_samples",)),
    "generate-boolean": Bad("POST", "/generate", 422, ("num_samples", "integer"), json={"num_samples": True},
                            fields=("num_samples",)),
    "generate-fraction": Bad("POST", "/generate", 422, ("num_samples", "integer"), json={"num_samples": 1.5},
                             fields=("num_samples",)),
    "generate-list": Bad("POST", "/generate", 422, ("num_samples",), json={"num_samples": [5]},
                         fields=("num_samples",)),
    "generate-seed-negative": Bad("POST", "/generate", 422, ("seed",), json={"num_samples": 5, "seed": -1},
                                  fields=("seed",)),
    "generate-seed-too-big": Bad("POST", "/generate", 422, ("seed",), json={"num_samples": 5, "seed": 2**63},
                                 fields=("seed",)),
    "generate-version-zero": Bad("POST", "/generate", 422, ("model_version",),
                                 json={"num_samples": 5, "model_version": 0}, fields=("model_version",)),
    "generate-model-name-traversal": Bad("POST", "/generate", 422, ("model_name",),
                                         json={"num_samples": 5, "model_name": "../x"}, fields=("model_name",)),
    "generate-model-name-unicode": Bad("POST", "/generate", 422, ("model_name",),
                                       json={"num_samples": 5, "model_name": "模型"}, fields=("model_name",)),
    "generate-model-name-nul": Bad("POST", "/generate", 422, ("model_name",),
                                   json={"num_samples": 5, "model_name": "cvd\x00"}, fields=("model_name",)),
    "generate-send-to-kafka-text": Bad("POST", "/generate", 422, ("send_to_kafka",),
                                       json={"num_samples": 5, "send_to_kafka": "sometimes"},
                                       fields=("send_to_kafka",)),
    "generate-extra-field": Bad("POST", "/generate", 422, ("format", "Extra inputs"),
                                json={"num_samples": 5, "format": "csv"}, fields=("format",)),
    "generate-two-errors": Bad("POST", "/generate", 422, ("num_samples", "model_name"),
                               json={"num_samples": -1, "model_name": "x" * 65}, fields=("num_samples", "model_name")),
    # -- /stream fields
    "stream-missing-num-samples": Bad("POST", "/stream", 422, ("num_samples", "Field required"),
                                      json={"batch_size": 10}, fields=("num_samples",)),
    "stream-negative": Bad("POST", "/stream", 422, ("num_samples",), json={"num_samples": -1},
                           fields=("num_samples",)),
    "stream-enormous": Bad("POST", "/stream", 422, ("num_samples must be at most 10000000",),
                           json={"num_samples": 10**9}, fields=("num_samples",)),
    "stream-batch-zero": Bad("POST", "/stream", 422, ("batch_size",), json={"num_samples": 5, "batch_size": 0},
                             fields=("batch_size",)),
    "stream-batch-huge": Bad("POST", "/stream", 422, ("batch_size",),
                             json={"num_samples": 5, "batch_size": 10**7}, fields=("batch_size",)),
    "stream-interval-negative": Bad("POST", "/stream", 422, ("interval_seconds",),
                                    json={"num_samples": 5, "interval_seconds": -1}, fields=("interval_seconds",)),
    "stream-interval-hour-plus": Bad("POST", "/stream", 422, ("interval_seconds",),
                                     json={"num_samples": 5, "interval_seconds": 3601},
                                     fields=("interval_seconds",)),
    "stream-model-name-65": Bad("POST", "/stream", 422, ("model_name",),
                                json={"num_samples": 5, "model_name": "x" * 65}, fields=("model_name",)),
    "stream-extra-field": Bad("POST", "/stream", 422, ("send_to_kafka", "Extra inputs"),
                              json={"num_samples": 5, "send_to_kafka": True}, fields=("send_to_kafka",)),
    # -- unknown things: 404
    "unknown-task": Bad("GET", "/train/status/nope", 404, ("training task 'nope' not found",)),
    "unknown-stream": Bad("GET", "/stream/nope", 404, ("stream 'nope' not found",)),
    "cancel-unknown-stream": Bad("DELETE", "/stream/nope", 404, ("stream 'nope' not found",)),
    "unknown-model": Bad("GET", "/models/nope", 404, ("model 'nope' not found",)),
    "unknown-model-bad-name": Bad("GET", "/models/a%20b", 404, ("invalid model name 'a b'",)),
    "unknown-model-version": Bad("GET", "/models/nope/versions/1", 404, ("model 'nope' has no version 1",)),
    "delete-unknown-model-version": Bad("DELETE", "/models/nope/versions/3", 404, ("model 'nope' has no version 3",)),
    "model-info-no-default": Bad("GET", "/model/info", 404, ("model 'cvd' not found",)),
    "model-info-bad-name": Bad("GET", "/model/info?model_name=../x", 404, ("invalid model name '../x'",)),
    "unknown-route": Bad("GET", "/nothing/here", 404, ("Not Found",)),
    "wrong-method": Bad("PUT", "/train", 405, ("Method Not Allowed",)),
    "generate-no-model": Bad("POST", "/generate", 404, ("model 'cvd' not found", "POST /train"),
                             json={"num_samples": 5}),
    "generate-kafka-no-model": Bad("POST", "/generate", 404, ("model 'cvd' not found", "POST /train"),
                                   json={"num_samples": 5, "send_to_kafka": True}),
    "generate-named-no-model": Bad("POST", "/generate", 404, ("model 'other'", "no version 2"),
                                   json={"num_samples": 5, "model_name": "other", "model_version": 2}),
    "stream-no-model": Bad("POST", "/stream", 404, ("model 'cvd' not found", "POST /train"),
                           json={"num_samples": 5}),
    # -- query parameters
    "records-limit-text": Bad("GET", "/warehouse/records?limit=ten", 400, ("limit must be an integer",)),
    "records-limit-zero": Bad("GET", "/warehouse/records?limit=0", 400, ("limit must be between 1 and 10000",)),
    "records-limit-huge": Bad("GET", "/warehouse/records?limit=10001", 400, ("limit must be between",)),
}


@pytest.mark.parametrize("case", list(BAD.values()), ids=list(BAD))
async def test_bad_input_is_answered_precisely_and_never_published(case: Bad, request, client, publish, store):
    no_models(store)
    if case.data_dir:
        request.getfixturevalue("data_dir")
    kwargs: dict[str, Any] = {}
    if case.json is not None:
        kwargs["data"] = orjson.dumps(case.json)
    elif case.data is not None:
        kwargs["data"] = case.data
    if "data" in kwargs and case.content_type:
        kwargs["headers"] = {"Content-Type": case.content_type}

    resp = await client.request(case.method, case.path, **kwargs)

    text = await resp.text()
    assert resp.status == case.status, text
    assert resp.content_type == "application/json", text
    body = orjson.loads(text)
    for fragment in case.says:
        assert fragment in body["error"], body
    if case.status == 422:
        named = {d["field"] for d in body["detail"]}
        assert set(case.fields) <= named, body
    if case.status == 400 and "dataset_path" in case.says:
        assert body["field"] == "dataset_path"
    publish.assert_not_called()


def test_the_bad_input_table_is_broad():
    assert len(BAD) >= 30
    assert {c.path.split("?")[0] for c in BAD.values()} >= {"/train", "/generate", "/stream", "/train/status/nope"}
    assert {413, 415, 400, 422, 404} <= {c.status for c in BAD.values()}


async def test_an_existing_model_without_overwrite_is_a_conflict(client, publish, model):
    resp = await client.post("/train", json={"model_name": model})
    assert resp.status == 409
    assert "overwrite_existing" in (await resp.json())["error"]
    publish.assert_not_called()


async def test_a_missing_version_of_an_existing_model_is_not_found(client, publish, model):
    for path in ("/generate", "/stream"):
        resp = await client.post(path, json={"num_samples": 5, "model_name": model, "model_version": 9})
        assert resp.status == 404, path
        assert f"model {model!r} has no version 9" in (await resp.json())["error"]
    resp = await client.get(f"/models/{model}/versions/9")
    assert resp.status == 404
    publish.assert_not_called()


async def test_cancelling_a_finished_stream_is_a_conflict(client, publish, tables):
    tables(status.streams, "done-1",
           {"stream_id": "done-1", "state": "completed", "created_at": "2025-01-01T00:00:00+00:00"})
    resp = await client.delete("/stream/done-1")
    assert resp.status == 409
    assert "already completed" in (await resp.json())["error"]
    publish.assert_not_called()


async def test_an_entry_that_is_not_a_stream_is_not_found(client, publish, tables):
    # what the status agent makes of a cancel (or a chunk failure) for an id no stream ever had
    tables(status.streams, "ghost", {"state": "cancelled", "completed_at": "2025-01-01T00:00:00+00:00",
                                     "updated_at": "2025-01-01T00:00:00+00:00"})
    for method in ("GET", "DELETE"):
        resp = await client.request(method, "/stream/ghost")
        assert resp.status == 404, method
        assert "stream 'ghost' not found" in (await resp.json())["error"]
    resp = await client.get("/streams")
    assert resp.status == 200
    assert all(s["stream_id"] != "ghost" for s in (await resp.json())["streams"])
    publish.assert_not_called()


async def test_api_token_guards_changing_requests(client, publish, monkeypatch):
    from pydantic import SecretStr

    import worker.settings as settings_module

    monkeypatch.setattr(settings_module.get_settings(), "api_token", SecretStr("s3cret"))
    resp = await client.post("/train", json={})
    assert resp.status == 401 and "bearer token" in (await resp.json())["error"]
    resp = await client.post("/train", json={}, headers={"Authorization": "Bearer wrong"})
    assert resp.status == 403 and "invalid token" in (await resp.json())["error"]
    assert (await client.get("/train/methods")).status == 200
    publish.assert_not_called()
    monkeypatch.setattr(settings_module.get_settings(), "api_token_for_reads", True)
    assert (await client.get("/train/methods")).status == 401
    resp = await client.get("/train/methods", headers={"Authorization": "Bearer s3cret"})
    assert resp.status == 200


async def test_expensive_requests_are_capped_per_client(client, model, monkeypatch):
    import asyncio

    import worker.settings as settings_module

    release, inside = asyncio.Event(), asyncio.Semaphore(0)

    async def slow_sample(*args):
        inside.release()
        await release.wait()
        return []

    monkeypatch.setattr(settings_module.get_settings(), "max_expensive_requests_per_client", 2)
    monkeypatch.setattr(app.worker, "sample", slow_sample)
    body = {"num_samples": 5, "model_name": model}
    first = [asyncio.ensure_future(client.post("/generate", json=body)) for _ in range(2)]
    for _ in first:  # both requests hold their slot (the middleware counts them before the view samples)
        await asyncio.wait_for(inside.acquire(), timeout=30)
    refused = await client.post("/generate", json=body)
    assert refused.status == 429
    assert "at most 2" in (await refused.json())["error"]
    release.set()
    for resp in await asyncio.gather(*first):
        assert resp.status == 200


# --- the happy paths, with the broker cut out ----------------------------------------------------


async def test_train_publishes_a_command_and_answers_202(client, publish, store):
    no_models(store)
    resp = await client.post("/train", json={"dataset_path": SAMPLE, "model_name": "cvd", "method": "ctgan",
                                             "epochs": 2, "parameters": {"batch_size": 500}})
    assert resp.status == 202
    body = await resp.json()
    assert body["status"] == "started"
    assert body["status_url"] == f"/train/status/{body['task_id']}"
    publish.assert_awaited_once()
    (command,) = publish.await_args.args
    assert isinstance(command, TrainCommand)
    assert command.id == body["task_id"]
    assert (command.method, command.epochs, command.parameters) == ("ctgan", 2, {"batch_size": 500})
    assert (command.dataset_path, command.model_name, command.overwrite_existing) == (SAMPLE, "cvd", False)


async def test_train_with_an_empty_body_uses_the_defaults(client, publish, store):
    no_models(store)
    resp = await client.post("/train", json={})
    assert resp.status == 202
    (command,) = publish.await_args.args
    assert (command.method, command.model_name, command.dataset_path) == ("cart", "cvd", SAMPLE)
    assert command.epochs is None


async def test_train_an_existing_model_with_overwrite(client, publish, model):
    resp = await client.post("/train", json={"model_name": model, "overwrite_existing": True})
    assert resp.status == 202
    assert publish.await_args.args[0].overwrite_existing is True


async def test_stream_publishes_a_command_with_the_resolved_version(client, publish, model):
    resp = await client.post("/stream", json={"num_samples": 300, "batch_size": 100, "model_name": model,
                                              "interval_seconds": 0.5, "seed": 3})
    assert resp.status == 202
    body = await resp.json()
    (command,) = publish.await_args.args
    assert isinstance(command, StreamCommand)
    assert command.id == body["stream_id"] and body["status_url"] == f"/stream/{command.id}"
    assert (command.model_name, command.model_version, command.num_samples, command.batch_size) == (model, 2, 300, 100)
    assert (command.interval_seconds, command.seed) == (0.5, 3)


async def test_generate_to_kafka_publishes_a_command(client, publish, model):
    resp = await client.post("/generate", json={"num_samples": 50, "send_to_kafka": True, "model_name": model,
                                                "model_version": 1})
    assert resp.status == 202
    body = await resp.json()
    (command,) = publish.await_args.args
    assert isinstance(command, GenerateCommand)
    assert (command.id, command.model_name, command.model_version) == (body["request_id"], model, 1)
    assert body["topic"] == app.worker.settings.records_topic


async def test_what_was_accepted_is_found_right_after_before_the_control_agent_reports(client, publish, model, tables):
    """Read-your-writes on the worker that answered: the status topic has nothing of these commands yet."""
    streamed = await (await client.post("/stream", json={"num_samples": 300, "batch_size": 100,
                                                         "model_name": model})).json()
    sent = await (await client.post("/generate", json={"num_samples": 50, "send_to_kafka": True,
                                                       "model_name": model})).json()
    trained = await (await client.post("/train", json={"model_name": f"{model}_b"})).json()
    for stream_id, kind in ((streamed["stream_id"], "stream"), (sent["request_id"], "generate")):
        resp = await client.get(f"/stream/{stream_id}")
        assert resp.status == 200
        view = await resp.json()
        assert (view["state"], view["kind"], view["model_version"], view["chunks_total"]) == ("pending", kind, 2, 1)
    listed = {s["stream_id"] for s in (await (await client.get("/streams")).json())["streams"]}
    assert {streamed["stream_id"], sent["request_id"]} <= listed
    resp = await client.get(f"/train/status/{trained['task_id']}")
    assert resp.status == 200 and (await resp.json())["status"] == "pending"
    assert trained["task_id"] in {t["task_id"] for t in (await (await client.get("/train/tasks")).json())["tasks"]}
    assert (await client.delete(f"/stream/{streamed['stream_id']}")).status == 202

    # once the status view folds the control agent's entry, that one is answered (and listed once)
    tables(status.streams, streamed["stream_id"], {"stream_id": streamed["stream_id"], "state": "running",
                                                   "num_samples": 300, "created_at": "2025-01-01T00:00:00"})
    assert (await (await client.get(f"/stream/{streamed['stream_id']}")).json())["state"] == "running"
    listed = [s["stream_id"] for s in (await (await client.get("/streams")).json())["streams"]]
    assert listed.count(streamed["stream_id"]) == 1


async def test_an_id_never_accepted_is_still_not_found(client, publish, model):
    await client.post("/stream", json={"num_samples": 10, "model_name": model})
    assert (await client.get("/stream/never-sent")).status == 404
    assert (await client.get("/train/status/never-sent")).status == 404


async def test_cancel_a_running_stream_publishes_a_cancel(client, publish, tables):
    tables(status.streams, "run-1", {"stream_id": "run-1", "state": "running", "created_at": "2025-01-01T00:00:00"})
    resp = await client.delete("/stream/run-1")
    assert resp.status == 202
    assert (await resp.json()) == {"stream_id": "run-1", "state": "cancelling"}
    assert publish.await_args.args == (CancelCommand(command="cancel", id="run-1"),)


async def test_training_status_and_list(client, tables):
    entry = {"task_id": "t-1", "status": "running", "progress": 52.5, "message": "epoch 1/2", "model_name": "cvd",
             "method": "ctgan", "created_at": "2025-01-01T00:00:00+00:00", "internal": "not shown"}
    tables(status.training_tasks, "t-1", entry)
    resp = await client.get("/train/status/t-1")
    assert resp.status == 200
    body = await resp.json()
    assert body["progress"] == 52.5 and body["message"] == "epoch 1/2" and "internal" not in body
    listed = await (await client.get("/train/tasks")).json()
    assert [t["task_id"] for t in listed["tasks"]] == ["t-1"] and listed["total_count"] == 1


async def test_methods_lists_every_method_with_parameters(client):
    resp = await client.get("/train/methods")
    assert resp.status == 200
    body = await resp.json()
    methods = {m["method"]: m for m in body["methods"]}
    assert set(methods) == {"cart", "arf", "mst", "gaussian_copula", "ctgan", "tvae", "copulagan"}
    assert body["default_method"] == "cart"
    assert methods["cart"]["parameters"]["min_leaf"]["default"] == 30
    assert methods["mst"]["parameters"]["epsilon"]["type"] == "float"
    assert methods["ctgan"]["trains_in_epochs"] is True and methods["ctgan"]["default_epochs"] == 600
    assert methods["gaussian_copula"]["trains_in_epochs"] is False
    assert methods["ctgan"]["parameters"]["batch_size"]["default"] == 500
    assert methods["ctgan"]["parameters"]["pac"]["type"] == "int"
    assert "default_distribution" in methods["gaussian_copula"]["parameters"]
    assert "loss_factor" in methods["tvae"]["parameters"]


async def test_datasets_lists_the_sample(client):
    resp = await client.get("/datasets")
    assert resp.status == 200
    body = await resp.json()
    assert body["total_count"] == len(body["datasets"]) >= 1
    sample = next(d for d in body["datasets"] if d["path"] == f"./data/{SAMPLE}")
    assert sample["name"] == SAMPLE
    assert sample["size_bytes"] == os.path.getsize(ROOT / "data" / SAMPLE)
    assert sample["modified_at"].endswith("+00:00")


async def test_datasets_skip_symlinks_leading_out(client, data_dir):
    body = await (await client.get("/datasets")).json()
    assert [d["relative_path"] for d in body["datasets"]] == [SAMPLE]


async def test_health_reports_the_broker_down(client, monkeypatch):
    res = app.worker
    # a port nothing listens on, so the answer does not depend on what else runs on this machine
    monkeypatch.setattr(res, "settings",
                        res.settings.model_copy(update={"kafka_bootstrap_servers": f"127.0.0.1:{free_port()}"}))
    monkeypatch.setattr(res, "topics_confirmed", True)
    resp = await client.get("/health")
    assert resp.status == 503
    body = await resp.json()
    assert body["status"] == "down"
    assert body["parts"]["broker"]["status"] == "down"
    assert body["parts"]["broker"]["reachable"] == 0
    assert body["parts"]["model_store"]["status"] == "ok"
    assert set(body["sink"]) >= {"landed", "duplicates", "dead_lettered"}


@pytest.mark.integration  # the session's real broker
async def test_health_reports_a_broker_back_from_an_outage_degraded_until_its_topics_are_checked(
        client, monkeypatch, kafka_broker):
    res = app.worker
    on_broker = res.settings.model_copy(update={"kafka_bootstrap_servers": kafka_broker})
    monkeypatch.setattr(res, "settings", on_broker)
    monkeypatch.setattr(res, "topics_confirmed", res.topics_confirmed)
    monkeypatch.setattr(res, "next_topic_check", res.next_topic_check)
    res.broker_seen_down()  # as when the worker's topic check found it down
    resp = await client.get("/health")
    assert resp.status == 503
    broker = (await resp.json())["parts"]["broker"]
    assert broker["status"] == "degraded" and broker["reachable"] == 1 and broker["topics"] == "checking"
    await lost_topics.check_topics()  # what the worker's timer runs: finds (or re-creates) the topics
    broker = (await (await client.get("/health")).json())["parts"]["broker"]
    assert broker["status"] == "ok" and broker["topics"] == "ok"


async def test_models_views(client, model, publish):
    listed = await (await client.get("/models")).json()
    assert {"name": model, "latest_version": 2, "versions": [1, 2]} in listed["models"]
    detail = await (await client.get(f"/models/{model}")).json()
    assert detail["latest_version"] == 2 and [v["version"] for v in detail["versions"]] == [1, 2]
    info = await (await client.get(f"/model/info?model_name={model}")).json()
    assert info["model_name"] == model and info["training_rows"] == 3463 and info["column_names"] == ["bmi", "heart_disease"]
    resp = await client.delete(f"/models/{model}/versions/2")
    assert resp.status == 200
    assert (await resp.json()) == {"deleted": {"name": model, "version": 2}}
    assert (await (await client.get(f"/models/{model}")).json())["latest_version"] == 1
    assert (await client.get(f"/models/{model}/versions/2")).status == 404
    publish.assert_not_called()


@pytest.mark.parametrize(
    ("path", "conditions", "says"),
    [
        ("/stream", {"shoe_size": "44"}, "unknown column 'shoe_size'"),
        ("/stream", {"heart_disease": "Maybe"}, "'heart_disease' has no category 'Maybe'"),
        ("/generate", {"bmi": 30}, "'bmi' is not categorical"),
        ("/generate", {"heart_disease": ["Yes"]}, "conditions.heart_disease"),
    ],
)
async def test_conditions_that_do_not_fit_the_model_are_422(client, publish, model, path, conditions, says):
    resp = await client.post(path, json={"num_samples": 10, "model_name": model, "conditions": conditions})
    assert resp.status == 422
    body = await resp.json()
    assert says in body["error"]
    assert any(d["field"].startswith("conditions") for d in body["detail"])
    publish.assert_not_awaited()


async def test_stream_carries_its_conditions(client, publish, model):
    resp = await client.post("/stream", json={"num_samples": 10, "model_name": model,
                                              "conditions": {"heart_disease": "Yes"}})
    assert resp.status == 202
    (command,) = publish.await_args.args
    assert command.conditions == {"heart_disease": "Yes"}


# --- the original README's requests (tests/integration/test_spec_contract.py sends them to a live worker) -------


async def test_train_takes_the_readmes_data_prefix_and_epochs_without_a_method(client, publish, store, data_dir):
    no_models(store)
    shutil.copy(data_dir / SAMPLE, data_dir / "CVD_cleaned.csv")
    resp = await client.post("/train", json={"dataset_path": "./data/CVD_cleaned.csv", "epochs": 300})
    assert resp.status == 202, await resp.text()
    body = await resp.json()
    assert body["status"] == "started" and body["task_id"] and body["message"]
    assert body["method"] == "ctgan" and "does not train in epochs" in body["method_reason"]
    (command,) = publish.await_args.args
    assert (command.method, command.epochs, command.dataset_path) == ("ctgan", 300, "./data/CVD_cleaned.csv")


@pytest.mark.parametrize("path", ["./data/../secret.csv", "./data/escape.csv", "/etc/passwd", "../secret.csv"])
async def test_train_refuses_paths_out_of_the_data_dir_in_the_readmes_form_too(client, publish, data_dir, path):
    resp = await client.post("/train", json={"dataset_path": path})
    assert resp.status == 400
    assert "outside the data directory" in (await resp.json())["error"]
    publish.assert_not_awaited()


async def test_methods_and_datasets_have_the_readmes_fields(client, data_dir):
    methods = (await (await client.get("/train/methods")).json())["methods"]
    ctgan = next(m for m in methods if m["method"] == "ctgan")
    assert ctgan["name"] == "CTGANSynthesizer" and ctgan["description"]
    datasets = (await (await client.get("/datasets")).json())["datasets"]
    assert [(d["name"], d["path"], d["relative_path"]) for d in datasets] == [(SAMPLE, f"./data/{SAMPLE}", SAMPLE)]


async def test_a_finished_trainings_model_path_is_the_synthesizer_file(client, tables, model, store):
    tables(status.training_tasks, "t-done", {
        "task_id": "t-done", "status": "completed", "created_at": "2025-01-01T00:00:00+00:00",
        "result": {"model_name": model, "model_version": 2, "model_path": str(store.version_dir(model, 2)),
                   "training_time": 1.0, "dataset_rows": 3463}})
    result = (await (await client.get("/train/status/t-done")).json())["result"]
    assert result["model_path"] == str(store.version_dir(model, 2) / "synthesizer.pkl")
    assert result["model_dir"] == str(store.version_dir(model, 2)) and result["model_path_is_url"] is False
    assert os.path.isfile(result["model_path"])


async def test_generate_and_stream_without_a_model_use_the_newest_model(client, publish, store, model):
    newer = f"n_{uuid.uuid4().hex[:8]}"
    staging = store.staging_dir()
    (staging / "synthesizer.pkl").write_bytes(b"stand-in")
    (staging / "metadata.json").write_text("{}")
    store.publish(newer, staging, {"method": "cart", "rows": 10, "columns": [], "created_at": "9999-01-01T00:00:00"})
    try:
        assert (await client.post("/stream", json={"num_samples": 10, "batch_size": 5})).status == 202
        assert publish.await_args.args[0].model_name == newer
        resp = await client.post("/generate", json={"num_samples": 10, "send_to_kafka": True})
        assert resp.status == 202 and publish.await_args.args[0].model_name == newer
        assert (await (await client.get("/model/info")).json())["model_name"] == newer
        assert (await (await client.get("/models")).json())["model_when_unnamed"] == newer
    finally:
        shutil.rmtree(store.root / newer, ignore_errors=True)


async def test_warehouse_sql_runs_the_readmes_query_and_refuses_writes(client):
    resp = await client.post("/warehouse/sql", json={"sql": "SELECT heart_disease, COUNT(*) as count FROM "
                                                            "CARDIOVASCULAR_DB.SYNTHETIC_DATA.PATIENT_DATA "
                                                            "GROUP BY heart_disease;"})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["columns"] == ["heart_disease", "count"] and body["truncated"] is False
    refused = await client.post("/warehouse/sql", json={"sql": "DELETE FROM PATIENT_DATA"})
    assert refused.status == 422
    (error,) = (await refused.json())["detail"]
    assert error["field"] == "sql" and "DELETE statements are refused" in error["message"]
    failed = await client.post("/warehouse/sql", json={"sql": "SELECT * FROM NO_SUCH_TABLE"})
    assert failed.status == 400 and "NO_SUCH_TABLE" in (await failed.json())["error"]


def test_the_api_installed_twice_counts_each_request_once():
    """Faust initialises its web server more than once: the middlewares (the in-flight limit among them) run once."""
    web_app = create_app(app.worker)
    install(web_app, None, app.worker)
    assert len(web_app.middlewares) == len(MIDDLEWARES)
