"""The interface every warehouse writer implements, and the factory that picks one from settings."""

from __future__ import annotations

import abc
from operator import itemgetter
from typing import Any

from warehouse.schema import CVD_COLUMNS, META_COLUMNS


def first_per_record_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without repeats of a record_id, keeping the first of each."""
    if len(set(map(itemgetter("record_id"), rows))) == len(rows):  # the common case, checked in C
        return rows
    unique: dict[Any, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["record_id"], row)
    return list(unique.values())


class WarehouseError(RuntimeError):
    """The warehouse could not be reached or refused a write; the sink retries these."""


class QueryError(WarehouseError):
    """The warehouse refused a user's query (unknown table, syntax): the query's fault, not the warehouse's."""


class WarehouseWriter(abc.ABC):
    """Idempotent batch writes keyed on record_id; every method is blocking (run it in a thread)."""

    name: str = "warehouse"

    def __init__(self, table: str):
        self.table = table
        self.columns: dict[str, str] = {**META_COLUMNS, **CVD_COLUMNS}

    @abc.abstractmethod
    def open(self) -> None:
        """Connect and create what is missing (database, schema, table)."""

    @abc.abstractmethod
    def write(self, rows: list[dict[str, Any]]) -> int:
        """Store rows not stored yet (by record_id); returns how many were new."""

    @abc.abstractmethod
    def query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        """Run a read-only query; column names come back lower-case."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

    def read(self, sql: str, limit: int) -> tuple[list[str], list[tuple]]:
        """A user's read-only analysis query (checked by warehouse.read_only): column names and at most limit + 1
        rows (the extra row tells the caller there were more); QueryError when the query is at fault."""
        raise NotImplementedError

    def ping(self) -> None:
        self.query("SELECT 1 AS ok")

    def stored_from(self, rows: list[dict[str, Any]]) -> set[str]:
        """The record_ids of rows whose stored copy came from that very message (the same Kafka topic,
        partition and offset): rows a write stored, now or in an earlier attempt, as opposed to repeats
        of a record another message stored first. Asked only of batches a write found repeats in."""
        coordinates = {row["record_id"]: (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"])
                       for row in rows}
        ids = list(coordinates)
        own: set[str] = set()
        for start in range(0, len(ids), 1000):  # bounded IN lists: Snowflake takes at most 16,384 expressions
            chunk = ids[start:start + 1000]
            stored = self.query(
                f"SELECT record_id, kafka_topic, kafka_partition, kafka_offset FROM {self.table} "
                f"WHERE record_id IN ({', '.join('?' * len(chunk))})", tuple(chunk))
            own.update(r["record_id"] for r in stored
                       if (r["kafka_topic"], r["kafka_partition"], r["kafka_offset"]) == coordinates[r["record_id"]])
        return own

    def summary(self) -> dict[str, Any]:
        totals = self.query(
            f"SELECT count(*) AS row_count, count(DISTINCT record_id) AS distinct_record_ids, "
            f"max(ingested_at) AS latest_ingested_at FROM {self.table}"
        )[0]
        per_version = self.query(
            # not "AS rows": ROWS is a reserved word in Snowflake
            f"SELECT model_name, model_version, count(*) AS n FROM {self.table} "
            "GROUP BY model_name, model_version ORDER BY model_name, model_version"
        )
        latest = totals["latest_ingested_at"]
        return {
            "warehouse": self.name,
            "table": self.table,
            "row_count": int(totals["row_count"]),
            "distinct_record_ids": int(totals["distinct_record_ids"]),
            "latest_ingested_at": latest.isoformat() if hasattr(latest, "isoformat") else latest,
            "rows_per_model_version": [
                {"model_name": r["model_name"], "model_version": r["model_version"], "rows": int(r["n"])}
                for r in per_version
            ],
        }

    def new_columns(self, rows: list[dict[str, Any]]) -> dict[str, str]:
        """Columns present in rows but not in the table, with a type inferred from their values."""
        from warehouse.schema import infer_type

        unknown = set().union(*rows).difference(self.columns)  # a dict iterates its keys
        found: dict[str, str] = {}
        for row in rows if unknown else ():  # the common case, no new column, skips this loop
            for key, value in row.items():
                if key in unknown and key not in found:
                    sql_type = infer_type(value)
                    if sql_type:
                        found[key] = sql_type
        return found
