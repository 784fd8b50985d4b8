"""Sampling: the same (request, chunk, seed) always yields the same records, each carrying its provenance."""

from __future__ import annotations

import math
import uuid

import numpy as np
import orjson
import pandas as pd
import pytest

import synthesis.records as sampling_records
import synthesis.sampling as sampling
from synthesis.sampling import build_records, chunk_seed, record_id, sample_chunk, sample_messages
from tests.harness import train_sample_model

META = ("record_id", "model_name", "model_version", "request_id", "generated_at")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return train_sample_model(tmp_path_factory.mktemp("sampling-models"))


def chunk(index: int = 0, seed: int | None = 7, rows: int = 50, request_id: str = "req-1") -> dict:
    return {"request_id": request_id, "chunk_index": index, "num_rows": rows, "model_name": "cvd",
            "model_version": 1, "generated_at": "2025-01-01T00:00:00+00:00", "seed": seed}


def data_of(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in META} for r in records]


def test_the_same_chunk_gives_identical_records(models_dir):
    first = sample_chunk(chunk(0), models_dir)
    sample_chunk(chunk(1), models_dir)  # sampling something else in between must not matter
    again = sample_chunk(chunk(0), models_dir)
    assert len(first) == 50
    assert first == again


def test_the_same_chunk_gives_identical_records_after_a_fresh_load(models_dir, monkeypatch):
    first = sample_chunk(chunk(3), models_dir)
    monkeypatch.setattr(sampling, "_CACHE", type(sampling._CACHE)())
    assert sample_chunk(chunk(3), models_dir) == first


def test_a_different_chunk_index_gives_different_records(models_dir):
    a = sample_chunk(chunk(0), models_dir)
    b = sample_chunk(chunk(1), models_dir)
    assert data_of(a) != data_of(b)
    assert not {r["record_id"] for r in a} & {r["record_id"] for r in b}


def test_a_different_seed_gives_different_records_and_the_same_seed_the_same_in_any_request(models_dir):
    base = data_of(sample_chunk(chunk(0, seed=7), models_dir))
    assert data_of(sample_chunk(chunk(0, seed=8), models_dir)) != base
    # "the same model version, seed, size and conditions give the same rows"
    assert data_of(sample_chunk(chunk(0, seed=7, request_id="req-2"), models_dir)) == base


def test_without_a_seed_each_request_gets_its_own_records(models_dir):
    base = data_of(sample_chunk(chunk(0, seed=None), models_dir))
    assert data_of(sample_chunk(chunk(0, seed=None, request_id="req-2"), models_dir)) != base


def test_no_seed_is_still_deterministic_per_request_and_chunk(models_dir):
    assert sample_chunk(chunk(0, seed=None), models_dir) == sample_chunk(chunk(0, seed=None), models_dir)


def test_records_carry_their_provenance(models_dir):
    records = sample_chunk(chunk(2, rows=20, request_id="req-meta"), models_dir)
    assert len(records) == 20
    for i, r in enumerate(records):
        assert r["model_name"] == "cvd"
        assert r["model_version"] == 1
        assert r["request_id"] == "req-meta"
        assert r["generated_at"] == "2025-01-01T00:00:00+00:00"
        assert r["record_id"] == record_id("req-meta", 2, i)
    assert len({r["record_id"] for r in records}) == 20
    assert {"height_cm", "bmi", "heart_disease", "fried_potato_consumption"} <= set(records[0])


def test_record_ids_are_deterministic_and_distinct():
    assert record_id("r", 0, 0) == record_id("r", 0, 0)
    ids = {record_id(req, c, row) for req in ("r", "s") for c in range(3) for row in range(10)}
    assert len(ids) == 60
    assert str(record_id("r", 0, 0)).count("-") == 4  # a uuid


def test_chunk_seeds_are_stable_and_in_range():
    assert chunk_seed("r", 0, 1) == chunk_seed("r", 0, 1)
    seeds = {chunk_seed("r", c, s) for c in range(50) for s in (None, 1)}
    assert len(seeds) == 100
    assert all(0 <= s < 2**31 for s in seeds)


def test_nan_becomes_none():
    frame = pd.DataFrame({"bmi": [21.5, np.nan], "sex": ["Male", None], "age": [np.nan, 3.0]})
    rows = build_records(frame, chunk(0, rows=2))
    assert rows[0]["bmi"] == 21.5 and rows[0]["sex"] == "Male" and rows[0]["age"] is None
    assert rows[1]["bmi"] is None and rows[1]["sex"] is None and rows[1]["age"] == 3.0
    for row in rows:
        assert not any(isinstance(v, float) and math.isnan(v) for v in row.values())
    # and the JSON the records topic carries has null, never NaN
    assert orjson.loads(orjson.dumps(rows[1], option=orjson.OPT_SERIALIZE_NUMPY))["bmi"] is None


def test_messages_are_keyed_by_record_id_and_json_encoded(models_dir):
    messages = sample_messages(chunk(4, rows=10), models_dir)
    records = sample_chunk(chunk(4, rows=10), models_dir)
    assert [key for key, _ in messages] == [r["record_id"].encode() for r in records]
    decoded = [orjson.loads(value) for _, value in messages]
    assert [d["record_id"] for d in decoded] == [r["record_id"] for r in records]
    assert decoded[0]["model_name"] == "cvd" and decoded[0]["request_id"] == "req-1"


def per_row_reference(frame: pd.DataFrame, c: dict) -> list[tuple[bytes, bytes]]:
    """What the records were before they were built by column: a dict per row, orjson per dict."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for i, row in enumerate(rows):
        row["record_id"] = str(uuid.uuid5(sampling_records.RECORD_NAMESPACE, f"{c['request_id']}/{c['chunk_index']}/{i}"))
        row.update(model_name=c["model_name"], model_version=c["model_version"], request_id=c["request_id"],
                   generated_at=c["generated_at"])
    return [(row["record_id"].encode(), orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY)) for row in rows]


MIXED = pd.DataFrame({
    "bmi": [21.5, np.nan, 1e16, -0.0, 0.1],
    "sex": ["Male", None, "Fe\"male", "Ünïcode", "Male"],
    "age": np.array([1, 2, 3, 4, 5], dtype=np.int64),
    "small": np.array([0.1, 0.2, 0.3, np.nan, 1.0], dtype=np.float32),
    "flag": [True, False, True, True, False],
    "mixed": [1, "a", None, 2.5, True],
    "nullable": pd.array([1, None, 3, 4, 5], dtype="Int64"),
    "category": pd.Categorical(["a", "b", None, "a", "b"]),
})


@pytest.mark.parametrize("index", [0, 3])
def test_messages_are_the_bytes_a_dict_per_row_gives(models_dir, index):
    c = chunk(index, rows=500, request_id=f"req-{index}")
    frame = sampling._chunk_frame(c, models_dir)
    assert sample_messages(c, models_dir) == per_row_reference(frame, c)
    assert sampling_records.build_messages(MIXED, c) == per_row_reference(MIXED, c)
    assert [orjson.loads(v) for _, v in sampling_records.build_messages(MIXED, c)] == build_records(MIXED, c)


def test_record_ids_match_uuid5():
    assert sampling_records.record_ids("req-x", 7, 300) == [record_id("req-x", 7, i) for i in range(300)]
    for value in sampling_records.record_ids("r", 0, 50):
        assert uuid.UUID(value).version == 5 and str(uuid.UUID(value)) == value


def test_sampling_a_missing_version_names_it(models_dir):
    from models_store import ModelNotFound

    with pytest.raises(ModelNotFound, match="no version 9"):
        sample_chunk(chunk(0) | {"model_version": 9}, models_dir)


def test_conditions_give_only_rows_with_those_values(models_dir):
    conditioned = dict(chunk(0, rows=200), conditions={"heart_disease": "Yes", "sex": "Female"})
    records = sample_chunk(conditioned, models_dir)
    assert len(records) == 200
    assert {(r["heart_disease"], r["sex"]) for r in records} == {("Yes", "Female")}


def test_the_same_seed_and_conditions_give_identical_rows_in_any_request(models_dir):
    conditioned = dict(chunk(0, seed=11, rows=100), conditions={"heart_disease": "Yes"})
    first = sample_chunk(conditioned, models_dir)
    sample_chunk(dict(conditioned, seed=12), models_dir)
    again = sample_chunk(dict(conditioned, request_id="another-request"), models_dir)
    assert data_of(first) == data_of(again)


def test_conditions_are_checked_against_the_model(models_dir):
    from models_store import ModelStore
    from synthesis.conditions import ConditionError, validate_conditions

    columns = ModelStore(models_dir).manifest("cvd", 1)["columns"]
    assert validate_conditions(columns, {"heart_disease": "Yes"}) == {"heart_disease": "Yes"}
    with pytest.raises(ConditionError, match="unknown column 'shoe_size'"):
        validate_conditions(columns, {"shoe_size": "44"})
    with pytest.raises(ConditionError, match="'sex' has no category 'Other'"):
        validate_conditions(columns, {"sex": "Other"})
    with pytest.raises(ConditionError, match="'bmi' is not categorical"):
        validate_conditions(columns, {"bmi": 30})


def test_the_bmi_rule_holds_in_sampled_rows(models_dir):
    for r in sample_chunk(chunk(0, rows=200), models_dir):
        assert abs(r["bmi"] - r["weight_kg"] / (r["height_cm"] / 100) ** 2) < 0.01


def test_training_stores_an_evaluation_with_the_version(models_dir):
    import json
    from pathlib import Path

    from models_store import ModelStore

    store = ModelStore(models_dir)
    manifest = store.manifest("cvd", 1)
    assert manifest["training_rows"] == 2770 and manifest["rows"] == 3463
    metrics = manifest["metrics"]
    assert 0.8 <= metrics["quality_score"] <= 1
    assert 0 <= metrics["dcr_share"] <= 1 and metrics["tstr_auc"] is not None
    assert metrics["bmi_off_share_with_rule"] == 0
    report = json.loads((Path(models_dir) / "cvd" / "1" / "report.json").read_text())
    assert report["utility"]["target"] == "heart_disease"
