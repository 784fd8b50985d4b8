"""A sampled frame as records, column by column: dicts for callers that want rows, JSON bytes for Kafka.

Both give what building a dict per row (NaN as None, record fields after the columns) and orjson-encoding
it gives, byte for byte (tests/synthesis/test_sampling.py compares them), without a Python dict per row
on the Kafka path: each column is encoded once (a numeric column by one orjson call on its array, a text
column by encoding each distinct value once) and a message is the join of its row's pieces.
"""

from __future__ import annotations

import hashlib
import uuid
from itertools import repeat
from typing import Any

import orjson
import pandas as pd

RECORD_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c6d-9e0f-a1b2c3d4e5f6")
RECORD_FIELDS = ("record_id", "model_name", "model_version", "request_id", "generated_at")
_NUMPY = orjson.OPT_SERIALIZE_NUMPY
# numpy dtypes whose array orjson writes exactly as it writes each value as a Python object (float32 is not
# one: as an object it is a Python float, which prints more digits)
_ARRAY_KINDS = {"float64", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32", "bool"}


def record_id(request_id: str, chunk_index: int, row: int) -> str:
    return str(uuid.uuid5(RECORD_NAMESPACE, f"{request_id}/{chunk_index}/{row}"))


def record_ids(request_id: str, chunk_index: int, count: int) -> list[str]:
    """record_id of rows 0..count-1 of a chunk: uuid5 (RFC 4122) spelled out without a UUID object per row."""
    base = hashlib.sha1(RECORD_NAMESPACE.bytes + f"{request_id}/{chunk_index}/".encode())
    ids = []
    for row in range(count):
        digest = base.copy()
        digest.update(str(row).encode())
        h = digest.hexdigest()
        # version 5 in the 13th hex digit, the RFC 4122 variant (10xx) in the 17th
        ids.append(f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}")
    return ids


def _values(column: pd.Series) -> list:
    """The column's values as Python objects, NaN (and NA, NaT) as None."""
    if column.hasnans:
        return column.astype(object).where(column.notna(), None).tolist()
    return column.tolist()


def _chunk_fields(chunk: dict[str, Any], count: int) -> tuple[list[str], dict[str, Any]]:
    meta = {"model_name": chunk["model_name"], "model_version": chunk["model_version"],
            "request_id": chunk["request_id"], "generated_at": chunk["generated_at"]}
    return record_ids(chunk["request_id"], chunk["chunk_index"], count), meta


def build_records(frame: pd.DataFrame, chunk: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows with the record fields added after the columns; NaN becomes None."""
    ids, meta = _chunk_fields(chunk, len(frame))
    names = [*frame.columns, *RECORD_FIELDS]
    columns = [_values(frame[name]) for name in frame.columns]
    fixed = [repeat(meta[field]) for field in RECORD_FIELDS[1:]]
    return [dict(zip(names, values)) for values in zip(*columns, ids, *fixed)]


def _json_values(column: pd.Series) -> list[bytes] | map:
    """Each value of the column as orjson writes it (None for NaN)."""
    if str(column.dtype) in _ARRAY_KINDS:
        return orjson.dumps(column.to_numpy(), option=_NUMPY)[1:-1].split(b",")
    values = _values(column)
    if set(map(type, values)) <= {str, type(None)}:  # text: encode each distinct value once
        encoded = {value: orjson.dumps(value) for value in set(values)}
        return map(encoded.__getitem__, values)
    return [orjson.dumps(value, option=_NUMPY) for value in values]


def build_messages(frame: pd.DataFrame, chunk: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """The records as Kafka (key, value) pairs: key the record_id, value the record's JSON."""
    if len(frame) == 0:
        return []
    if set(RECORD_FIELDS) & set(frame.columns):  # a column the record fields overwrite: as dicts do
        return [(row["record_id"].encode(), orjson.dumps(row, option=_NUMPY)) for row in build_records(frame, chunk)]
    ids, meta = _chunk_fields(chunk, len(frame))
    pieces: list = []
    for position, name in enumerate(frame.columns):
        pieces += [repeat((b"{" if position == 0 else b",") + orjson.dumps(str(name)) + b":"),
                   _json_values(frame[name])]
    keys = [record.encode() for record in ids]
    # the ids are hex and dashes: quoted as they are, as orjson would
    pieces += [repeat((b"{" if not pieces else b",") + b'"record_id":"'), keys,
               repeat(b'",' + orjson.dumps(meta)[1:])]
    return list(zip(keys, map(b"".join, zip(*pieces))))
