"""The record validator: any message the broker can carry is a stored row or a rejection with a reason.

A message that passed validation and then failed the write would be retried for ever (the sink
acknowledges nothing it has not stored), stalling every record behind it: so an accepted record is
written to a real DuckDB file here, and must land.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.json_strategies import encoded, json_values
from warehouse.duckdb import DuckDBWriter
from warehouse.schema import CVD_COLUMNS, META_COLUMNS
from warehouse.validation import MAX_RECORD_BYTES, RecordError, parse_record, parse_records

SCHEMA = {"bmi": {"name": "bmi"}, "heart_disease": {"name": "heart_disease", "categories": ["No", "Yes"]}}
COLUMNS = {**META_COLUMNS, **CVD_COLUMNS}


def model_columns(name: str, version: int):
    return SCHEMA if (name, version) == ("cvd", 1) else None


def valid(**changes) -> dict:
    return {"record_id": "r-1", "model_name": "cvd", "model_version": 1, "request_id": "q-1",
            "generated_at": "2026-01-02T03:04:05+00:00", "bmi": 27.5, "heart_disease": "No", **changes}


def test_a_valid_record_parses_to_itself():
    assert parse_record(orjson.dumps(valid()), COLUMNS, model_columns) == valid()


def test_an_oversized_record_is_rejected_before_it_is_parsed():
    padding = "x" * MAX_RECORD_BYTES
    with pytest.raises(RecordError, match=f"record of {MAX_RECORD_BYTES + 100} bytes exceeds {MAX_RECORD_BYTES}"):
        parse_record(b"[" + b" " * (MAX_RECORD_BYTES + 98) + b"]", COLUMNS, model_columns)
    with pytest.raises(RecordError, match="exceeds"):
        parse_record(orjson.dumps(valid(request_id=padding)), COLUMNS, model_columns)
    at_limit = orjson.dumps(valid(request_id=""))
    at_limit = orjson.dumps(valid(request_id="y" * (MAX_RECORD_BYTES - len(at_limit))))
    assert len(at_limit) == MAX_RECORD_BYTES
    assert parse_record(at_limit, COLUMNS, model_columns)["request_id"].startswith("y")


@pytest.mark.parametrize(("record", "reason"), [
    (valid(record_id=""), "missing field 'record_id'"),
    (valid(record_id=5), "record_id must be a string"),
    (valid(request_id=[1]), "request_id must be a string, got list"),
    (valid(model_name=7), "model_name must be a string, got int"),
    (valid(model_version=True), "model_version must be an integer"),
    (valid(generated_at="yesterday"), "generated_at is not an ISO timestamp"),
    (valid(model_version=2), "unknown model 'cvd' version 2"),
    (valid(BMI=1.0), "invalid column name 'BMI'"),
    (valid(shoe_size=44), "unknown column 'shoe_size'"),
    (valid(bmi=[1]), "column 'bmi' must hold a scalar"),
    (valid(bmi="heavy"), "column 'bmi' expects DOUBLE"),
    (valid(heart_disease="Maybe"), "'Maybe' is not a category"),
    ({k: v for k, v in valid().items() if k != "bmi"}, "missing columns \\['bmi'\\]"),
])
def test_each_problem_is_named(record, reason):
    with pytest.raises(RecordError, match=reason):
        parse_record(orjson.dumps(record), COLUMNS, model_columns)


# records close to valid ones: each field valid, or replaced by any JSON value, plus unknown fields
near_valid = st.builds(
    lambda base, changes, extra: {**{k: v for k, v in base.items() if k not in changes}, **changes, **extra},
    st.just(valid()),
    st.dictionaries(st.sampled_from(sorted(valid())), json_values, max_size=3),
    st.dictionaries(st.text(max_size=10), json_values, max_size=2),
)
# timestamps at the edges: year 1 and 9999, offsets up to a day, no offset
timestamps = st.datetimes(timezones=st.none() | st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59),
                            ).map(lambda d: timedelta(minutes=d // timedelta(minutes=1))))).map(datetime.isoformat)
near_valid = near_valid | st.builds(lambda r, t: dict(r, generated_at=t), near_valid, timestamps)
messages = st.none() | encoded(json_values) | encoded(near_valid) | near_valid.map(orjson.dumps)


def test_any_message_is_stored_or_rejected_with_a_reason(tmp_path):
    writer = DuckDBWriter(tmp_path / "validated.duckdb")
    outcomes = {"stored": 0, "rejected": 0}

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(raw=messages, n=st.integers(0, 10**9))
    def check(raw, n):
        try:
            record = parse_record(raw, writer.columns, model_columns)
        except RecordError as exc:
            assert str(exc), "a rejection without a reason"
            outcomes["rejected"] += 1
            return
        record = dict(record, record_id=f"{record['record_id']}#{n}")  # each example its own row
        writer.write([record])
        stored = writer.query(f"SELECT count(*) AS n FROM {writer.table} WHERE record_id = ?", (record["record_id"],))
        assert stored == [{"n": 1}]
        outcomes["stored"] += 1

    try:
        check()
    finally:
        writer.close()
    assert outcomes["stored"] and outcomes["rejected"], outcomes  # both ends were reached


def one_by_one(raw):
    try:
        return parse_record(raw, COLUMNS, model_columns)
    except RecordError as exc:
        return f"rejected: {exc}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(messages, max_size=12), valid_copies=st.integers(0, 5))
def test_a_batch_parses_as_its_records_do_one_by_one(batch, valid_copies):
    """The column-wise batch check accepts and rejects exactly what parse_record does, with its reasons."""
    raws = [orjson.dumps(valid(record_id=f"v-{i}")) for i in range(valid_copies)] + batch
    got = [f"rejected: {r}" if isinstance(r, RecordError) else r for r in parse_records(raws, COLUMNS, model_columns)]
    assert got == [one_by_one(raw) for raw in raws]


def test_one_bad_record_among_good_ones_is_rejected_alone():
    raws = [orjson.dumps(valid(record_id=f"r-{i}")) for i in range(100)]
    raws[40] = orjson.dumps(valid(record_id="r-40", heart_disease="Maybe"))
    raws[41] = orjson.dumps(valid(record_id="r-41", bmi=True))
    raws[42] = orjson.dumps(valid(record_id="r-42", heart_disease=True))

    results = parse_records(raws, COLUMNS, model_columns)

    assert [i for i, r in enumerate(results) if isinstance(r, RecordError)] == [40, 41, 42]
    assert "'Maybe' is not a category" in str(results[40]) and "expects DOUBLE" in str(results[41])
    assert "expects VARCHAR, got True" in str(results[42])
    assert results[0] == valid(record_id="r-0")
