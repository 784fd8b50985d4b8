"""Rows shaped as the sink writes them: record fields, CVD columns, then ingestion and Kafka coordinates."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timezone
from typing import Any

from warehouse.schema import CVD_COLUMNS

_CATEGORIES = {
    "general_health": ["Poor", "Fair", "Good", "Very Good", "Excellent"],
    "checkup": ["Within the past year", "Within the past 2 years", "5 or more years ago", "Never"],
    "age_category": ["18-24", "25-29", "45-49", "70-74", "80+"],
    "sex": ["Female", "Male"],
    "smoking_history": ["Yes", "No"],
}


def make_rows(
    n: int, request_id: str | None = None, *, offset: int = 0, model_version: int = 1, seed: int = 7
) -> list[dict[str, Any]]:
    """n rows of one request, as agents/sink.py builds them, with Kafka offsets offset..offset+n-1."""
    rng = random.Random(seed)
    request_id = request_id or uuid.uuid4().hex
    generated_at = datetime.now(timezone.utc).isoformat()
    ingested_at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "record_id": f"{request_id}-{offset + i}",
            "model_name": "cvd",
            "model_version": model_version,
            "request_id": request_id,
            "generated_at": generated_at,
        }
        for name, sql_type in CVD_COLUMNS.items():
            if sql_type == "DOUBLE":
                row[name] = round(rng.uniform(0, 120), 2)
            else:
                row[name] = rng.choice(_CATEGORIES.get(name, ["Yes", "No"]))
        row.update(
            ingested_at=ingested_at, kafka_topic="cardiovascular-data", kafka_partition=i % 4, kafka_offset=offset + i
        )
        rows.append(row)
    return rows
