"""Checking a record from the records topic before it may land; failures go to the dead-letter topic."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable

import orjson

from warehouse.schema import RECORD_FIELDS, fits_type

COLUMN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_RECORD_BYTES = 64 * 1024


class RecordError(ValueError):
    """Why a record was rejected."""


def parse_record(
    raw: bytes | None,
    columns: dict[str, str],
    model_columns: Callable[[str, int], dict[str, dict[str, Any]] | None],
) -> dict[str, Any]:
    """The record as a dict, or RecordError naming the first problem found."""
    if raw is None:
        raise RecordError("empty message")
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(f"record of {len(raw)} bytes exceeds {MAX_RECORD_BYTES}")
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise RecordError(f"record must be a JSON object, got {type(record).__name__}")
    for field in RECORD_FIELDS:
        if record.get(field) in (None, ""):
            raise RecordError(f"missing field {field!r}")
    if not isinstance(record["record_id"], str) or len(record["record_id"]) > 128:
        raise RecordError("record_id must be a string of at most 128 characters")
    # VARCHAR columns: a list or a number here would pass and then fail every write of its batch
    for field in ("model_name", "request_id"):
        if not isinstance(record[field], str):
            raise RecordError(f"{field} must be a string, got {type(record[field]).__name__}")
    version = record["model_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise RecordError(f"model_version must be an integer, got {version!r}")
    try:
        datetime.fromisoformat(record["generated_at"])
    except (TypeError, ValueError):
        raise RecordError(f"generated_at is not an ISO timestamp: {record['generated_at']!r}") from None
    schema = model_columns(str(record["model_name"]), version)
    if schema is None:
        raise RecordError(f"unknown model {record['model_name']!r} version {version}")
    for key, value in record.items():
        if key in RECORD_FIELDS:
            continue
        if not COLUMN.fullmatch(key):
            raise RecordError(f"invalid column name {key!r}")
        if key not in schema:
            raise RecordError(f"unknown column {key!r} for model {record['model_name']} v{version}")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise RecordError(f"column {key!r} must hold a scalar, got {type(value).__name__}")
        if key in columns and not fits_type(value, columns[key]):
            raise RecordError(f"column {key!r} expects {columns[key]}, got {value!r}")
        categories = schema[key].get("categories")
        if categories is not None and value is not None and str(value) not in categories:
            raise RecordError(f"column {key!r} value {value!r} is not a category of the model")
    missing = [c for c in schema if c not in record]
    if missing:
        raise RecordError(f"missing columns {missing[:5]}")
    return record
