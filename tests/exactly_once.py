"""The exactly-once check, held the way Snowflake behaves: the table's key guarantees nothing.

Snowflake accepts PRIMARY KEY and never enforces it, so `count(*) == count(DISTINCT record_id)` on a
keyed table proves only the key. This compares what is stored, row by row, with what was produced:
as many rows as records, and the same set of record_ids.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable


def assert_each_once(stored: Iterable[str], produced: Iterable[str]) -> None:
    """Every produced record_id stored exactly once, and nothing else stored."""
    stored, produced = list(stored), set(produced)
    repeated = {rid: n for rid, n in Counter(stored).items() if n > 1}
    assert not repeated and len(stored) == len(produced), (
        f"{len(stored)} rows stored for {len(produced)} records; {len(repeated)} record_ids stored more than "
        f"once (e.g. {sorted(repeated.items())[:3]})")
    missing, extra = produced.difference(stored), set(stored).difference(produced)
    assert not missing and not extra, (
        f"{len(missing)} records missing (e.g. {sorted(missing)[:3]}), "
        f"{len(extra)} stored that were never produced (e.g. {sorted(extra)[:3]})")


def stored_ids(writer, where: str = "", params: tuple = ()) -> list[str]:
    """Every record_id row in the writer's table (one entry per row, repeats kept)."""
    return [r["record_id"] for r in writer.query(f"SELECT record_id FROM {writer.table} {where}", params)]


def produced_ids(stream: dict, chunk_size: int | None = None) -> set[str]:
    """The record_ids a stream (GET /stream/{id}) produces, as the sampler names them; chunk_size: CHUNK_SIZE
    (its default when None)."""
    from worker.settings import Settings
    from synthesis.sampling import record_id

    chunk_size = chunk_size or Settings.model_fields["chunk_size"].default

    # the plan of agents/generation.py: paced streams sample at most batch_size rows per chunk
    per_chunk = min(stream["batch_size"], chunk_size) if stream["interval_seconds"] > 0 else chunk_size
    total = stream["num_samples"]
    return {record_id(stream["stream_id"], i // per_chunk, i % per_chunk) for i in range(total)}
