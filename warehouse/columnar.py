"""Rows to an Arrow table with the warehouse's column types, shared by the DuckDB and Snowflake writers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

ARROW_TYPES = {
    "VARCHAR": pa.string(), "DOUBLE": pa.float64(), "INTEGER": pa.int32(), "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us"),
}


def to_arrow(rows: list[dict[str, Any]], columns: dict[str, str]) -> pa.Table:
    """A columnar batch with the table's types; timestamps arrive as ISO strings."""
    plain = {name: sql_type for name, sql_type in columns.items() if sql_type != "TIMESTAMP"}
    # Converting the dicts as one struct array runs in Arrow's C++ converter, several times faster than
    # a Python list per column; keys a row lacks become nulls and keys the table lacks are ignored.
    struct = pa.array(rows, type=pa.struct([(name, ARROW_TYPES[t]) for name, t in plain.items()]))
    arrays = dict(zip(plain, struct.flatten()))
    for name, sql_type in columns.items():
        if sql_type == "TIMESTAMP":
            arrays[name] = _timestamp_array([row.get(name) for row in rows])
    return pa.table({name: arrays[name] for name in columns})


def _timestamp_array(values: list) -> pa.Array:
    # A batch holds few distinct timestamps (one ingestion time, one per generation chunk): parse each once.
    try:
        encoded = pa.array(values, type=pa.string()).dictionary_encode()
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # datetime objects rather than ISO strings
        parsed = {value: _timestamp(value) for value in set(values)}
        return pa.array([parsed[v] for v in values], type=ARROW_TYPES["TIMESTAMP"])
    uniques = pa.array([_timestamp(v) for v in encoded.dictionary.to_pylist()], type=ARROW_TYPES["TIMESTAMP"])
    return uniques.take(encoded.indices)


def _timestamp(value):
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed.astimezone().replace(tzinfo=None)
