"""Which columns an evaluation treats as numbers and which as categories, read from SDV metadata."""

from __future__ import annotations

from typing import Any

DEFAULT_TABLE = "records"


def metadata_dict(metadata) -> dict[str, Any]:
    """The multi-table metadata dict, from an sdv Metadata, its dict, or a single table's dict."""
    as_dict = metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata)
    if "tables" not in as_dict:  # a single table's {"columns": ...}
        as_dict = {"tables": {DEFAULT_TABLE: as_dict}, "relationships": [], "METADATA_SPEC_VERSION": "V2"}
    return as_dict


def table_name(metadata: dict[str, Any]) -> str:
    tables = list(metadata["tables"])
    return DEFAULT_TABLE if DEFAULT_TABLE in tables else tables[0]


def column_kinds(metadata: dict[str, Any], df) -> tuple[list[str], list[str]]:
    """(numeric columns, categorical columns) of df; ids and free text belong to neither."""
    columns = metadata["tables"][table_name(metadata)]["columns"]
    numeric, categorical = [], []
    for name in df.columns:
        sdtype = columns.get(name, {}).get("sdtype")
        if sdtype in ("numerical", "datetime"):
            numeric.append(name)
        elif sdtype in ("categorical", "boolean"):
            categorical.append(name)
    return numeric, categorical


def as_numbers(series):
    """A numeric or datetime column as floats (datetimes in seconds)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    parsed = pd.to_datetime(series, errors="coerce")
    if parsed.notna().any() or series.isna().all():
        return parsed.astype("int64").where(parsed.notna()).astype(float) / 1e9
    return pd.to_numeric(series, errors="coerce").astype(float)


def as_labels(series):
    """A categorical column as strings, with missing values as their own label."""
    return series.astype("string").fillna("<missing>").astype(str)
