"""Checking a record from the records topic before it may land; failures go to the dead-letter topic."""

from __future__ import annotations

import re
from datetime import datetime
from operator import itemgetter
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


# Python types a column's values may have, by the table's SQL type (fits_type, as sets of types)
_FITTING_TYPES = {
    "VARCHAR": {str}, "BOOLEAN": {bool}, "DOUBLE": {int, float}, "INTEGER": {int, float}, "BIGINT": {int, float},
    "TIMESTAMP": {str},
}
_SCALARS = {str, int, float, bool, type(None)}


def parse_records(
    raws: list[bytes | None],
    columns: dict[str, str],
    model_columns: Callable[[str, int], dict[str, dict[str, Any]] | None],
) -> list[dict[str, Any] | RecordError]:
    """Each message's record, or the RecordError parse_record gives it.

    Records with the same fields and model are checked together, a column at a time (a set of types,
    a set of values); a group that any check questions is parsed again record by record with
    parse_record, so a rejected record always carries parse_record's reason.
    """
    results: list[dict[str, Any] | RecordError | None] = [None] * len(raws)
    groups: dict[tuple, list[int]] = {}
    for i, raw in enumerate(raws):
        try:
            if raw is None or len(raw) > MAX_RECORD_BYTES:
                raise ValueError
            record = orjson.loads(raw)
            key = (tuple(record), record["model_name"], record["model_version"])
            groups.setdefault(key, []).append(i)  # raises TypeError for an unhashable model name or version
            results[i] = record
        except (ValueError, TypeError, KeyError, AttributeError):  # not a JSON object with those fields
            results[i] = _parsed(raw, columns, model_columns)
    for (fields, name, version), indices in groups.items():
        records = [results[i] for i in indices]
        if not _group_is_valid(records, fields, name, version, columns, model_columns):
            for i in indices:
                results[i] = _parsed(raws[i], columns, model_columns)
    return results  # type: ignore[return-value]


def _parsed(raw, columns, model_columns) -> dict[str, Any] | RecordError:
    try:
        return parse_record(raw, columns, model_columns)
    except RecordError as exc:
        return exc


def _group_is_valid(records, fields, name, version, columns, model_columns) -> bool:
    """Whether parse_record would accept every record of a group sharing fields, model name and version."""
    if not all(f in fields for f in RECORD_FIELDS):
        return False
    if type(name) is not str or not name or type(version) is not int:
        return False
    schema = model_columns(name, version)
    if schema is None or any(c not in fields for c in schema):
        return False
    values = {field: list(map(itemgetter(field), records)) for field in fields}  # field -> values in record order
    for field in ("record_id", "request_id"):
        if set(map(type, values[field])) != {str} or min(map(len, values[field])) == 0:
            return False
    if max(map(len, values["record_id"])) > 128:
        return False
    if set(map(type, values["generated_at"])) != {str}:
        return False
    try:
        for stamp in set(values["generated_at"]):
            datetime.fromisoformat(stamp)
    except ValueError:
        return False
    for key in fields:
        if key in RECORD_FIELDS:
            continue
        if not COLUMN.fullmatch(key) or key not in schema:
            return False
        types = set(map(type, values[key]))
        if not types <= _SCALARS:
            return False
        if key in columns and not types - {type(None)} <= _FITTING_TYPES.get(columns[key], set()):
            return False
        categories = schema[key].get("categories")
        if categories is not None:
            if types <= {str, type(None)}:
                spelled = set(values[key]) - {None}
            else:  # distinct by type too: True and 1 are one set member but two categories ("True", "1")
                spelled = {str(v) for _, v in set(zip(map(type, values[key]), values[key])) if v is not None}
            if not spelled <= set(categories):
                return False
    return True
