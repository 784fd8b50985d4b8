"""Hypothesis strategies for what a Kafka message can carry: any JSON document, and raw bytes."""

from __future__ import annotations

import orjson
from hypothesis import strategies as st

# orjson (what every agent decodes with) reads integers of at most 64 bits
scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def encoded(values: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    """Those values as JSON bytes, mixed with arbitrary bytes (not JSON, cut off, not UTF-8)."""
    return values.map(orjson.dumps) | st.binary(max_size=200)
