"""The Faust records carried between agents (commands and synthetic records are raw JSON)."""

from __future__ import annotations

from typing import Any

import faust


class GenerationChunk(faust.Record, serializer="json"):
    """One slice of a generation request; the same chunk always yields the same records."""

    request_id: str
    chunk_index: int
    num_rows: int
    model_name: str
    model_version: int
    generated_at: str
    seed: int | None = None
    conditions: dict[str, Any] | None = None


class StatusUpdate(faust.Record, serializer="json"):
    """A change to one entry of a status table: fields to set and counters to add to."""

    table: str  # "training" or "stream"
    key: str
    changes: dict[str, Any] = {}  # noqa: RUF012 - faust copies record defaults
    increments: dict[str, int] = {}  # noqa: RUF012
    # from the sink: offsets of the records topic whose records landed or were rejected (agents.sink.Landing)
    landing: dict[str, Any] = {}  # noqa: RUF012
