"""The record table's columns, shared by every warehouse."""

from __future__ import annotations

from typing import Any

# Pipeline fields of every record, then Kafka coordinates and ingestion time added by the sink.
META_COLUMNS: dict[str, str] = {
    "record_id": "VARCHAR",
    "model_name": "VARCHAR",
    "model_version": "INTEGER",
    "request_id": "VARCHAR",
    "generated_at": "TIMESTAMP",
    "ingested_at": "TIMESTAMP",
    "kafka_topic": "VARCHAR",
    "kafka_partition": "INTEGER",
    "kafka_offset": "BIGINT",
}

# The CVD survey columns, created up front so the analysis queries run on an empty table too.
CVD_COLUMNS: dict[str, str] = {
    **{c: "VARCHAR" for c in (
        "general_health", "checkup", "exercise", "heart_disease", "skin_cancer", "other_cancer",
        "depression", "diabetes", "arthritis", "sex", "age_category")},
    "height_cm": "DOUBLE",
    "weight_kg": "DOUBLE",
    "bmi": "DOUBLE",
    "smoking_history": "VARCHAR",
    **{c: "DOUBLE" for c in (
        "alcohol_consumption", "fruit_consumption", "green_vegetables_consumption", "fried_potato_consumption")},
}

RECORD_FIELDS = ("record_id", "model_name", "model_version", "request_id", "generated_at")
SINK_FIELDS = ("ingested_at", "kafka_topic", "kafka_partition", "kafka_offset")


def infer_type(value: Any) -> str | None:
    """SQL type for a value of a column the table does not have yet (None: cannot tell)."""
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, (int, float)):
        return "DOUBLE"
    if isinstance(value, str):
        return "VARCHAR"
    return None


def fits_type(value: Any, sql_type: str) -> bool:
    if value is None:
        return True
    if sql_type == "VARCHAR":
        return isinstance(value, str)
    if sql_type == "BOOLEAN":
        return isinstance(value, bool)
    if sql_type in ("DOUBLE", "INTEGER", "BIGINT"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if sql_type == "TIMESTAMP":
        return isinstance(value, str)
    return False
