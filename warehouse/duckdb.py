"""DuckDB: the embedded default warehouse, one file under the state directory.

DuckDB lets one process at a time open a file. Holding it for the worker's life would lock out anyone
who opens the warehouse to look at it (the DuckDB CLI, a notebook) for as long as the worker runs, so
the writer lets go of the file after `release_after` seconds without a call. While another process
holds the file, a call fails with "Could not set lock on file" (a WarehouseError): the sink retries
with backoff, /health reports the warehouse down, and the rows land once the other process lets go.
The file is not opened per batch: closing it checkpoints the table, which made a 5,000-row write about
three times slower.

One row per record_id is kept by the writer rather than by a PRIMARY KEY: DuckDB lets one process
write the file, one lock per file runs one write() at a time, and each write() inserts, in one
statement, the batch's first row of each record_id that the table does not hold yet. A primary key
enforces the same with an ART index that costs about half of a 100,000-row write of random uuid
keys (benchmarks/warehouse_bench.py prints both) and stays in memory, growing with the table
(benchmarks/scale_bench.py). A table created with the key by an earlier version keeps it; writes to it
behave the same, more slowly.

The release runs on a daemon timer thread. Every open writer is closed at interpreter exit (atexit runs
before daemon threads are stopped): a timer that fired during finalization would be stopped inside
DuckDB's close, and the process would abort with "FATAL: exception not rethrown".
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import duckdb

from warehouse.base import QueryError, WarehouseError, WarehouseWriter, first_per_record_id
from warehouse.columnar import to_arrow

__all__ = ["DuckDBWriter", "to_arrow"]

_writers: "weakref.WeakSet[DuckDBWriter]" = weakref.WeakSet()
_file_locks: dict[Path, threading.Lock] = {}
_file_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    """One lock per file for every writer of this process: DuckDB lets connections of one process
    append to a table at the same time, so writers of the same file share the lock that keeps
    one row per record_id (see the module docstring)."""
    with _file_locks_guard:
        return _file_locks.setdefault(path.resolve(), threading.Lock())


@atexit.register
def _close_all() -> None:
    """Close every writer still open while threads can still run (see the module docstring)."""
    for writer in list(_writers):
        writer.close()


class DuckDBWriter(WarehouseWriter):
    name = "duckdb"

    def __init__(self, path: Path | str, table: str = "PATIENT_DATA", release_after: float | None = None,
                 catalog: str = "CARDIOVASCULAR_DB", schema: str = "SYNTHETIC_DATA"):
        super().__init__(table)
        self.path = Path(path)
        # read() attaches the file as `catalog`; `schema`.`table` is a view of main.`table` in the file
        self.catalog, self.schema = catalog, schema
        self.release_after = release_after  # None: keep the file open until close()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = _lock_for(self.path)
        self._last_used = 0.0
        self._releaser: threading.Timer | None = None
        _writers.add(self)

    def open(self) -> None:
        with self._lock:
            self._connection()
            self._used()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """The open file (opened now if needed); call with the lock held."""
        if self._con is not None:
            return self._con
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(self.path))
        except (duckdb.Error, OSError) as exc:  # "Could not set lock on file": another process has it open
            raise WarehouseError(f"DuckDB {self.path}: {exc}") from None
        try:
            con.execute("SET TimeZone = 'UTC'")
            cols = ", ".join(f"{n} {t}" for n, t in self.columns.items() if n != "record_id")
            con.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (record_id VARCHAR NOT NULL, {cols})")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            # SELECT *: DuckDB binds a view when it is queried, so columns added later show through
            con.execute(f"CREATE VIEW IF NOT EXISTS {self.schema}.{self.table} AS SELECT * FROM main.{self.table}")
            existing = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE lower(table_name) = lower(?)",
                [self.table],
            ).fetchall()
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(f"DuckDB {self.path}: {exc}") from None
        for name, data_type in existing:
            self.columns.setdefault(name.lower(), data_type.upper())
        self._con = con
        return con

    def _used(self) -> None:
        """Note a call; the file is closed once no call came for release_after seconds."""
        self._last_used = time.monotonic()
        if self.release_after is not None and self._releaser is None:
            self._schedule_release(self.release_after)

    def _schedule_release(self, wait: float) -> None:
        self._releaser = threading.Timer(wait, self._release_if_idle)
        self._releaser.daemon = True
        self._releaser.start()

    def _release_if_idle(self) -> None:
        with self._lock:
            self._releaser = None
            if self._con is None:
                return
            idle = time.monotonic() - self._last_used
            if idle >= self.release_after:
                self._reset()
            else:
                self._schedule_release(self.release_after - idle)

    def write(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        with self._lock:
            con = self._connection()
            try:
                for name, sql_type in self.new_columns(rows).items():
                    con.execute(f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS {name} {sql_type}").fetchall()
                    self.columns[name] = sql_type
                batch = to_arrow(first_per_record_id(rows), self.columns)
                con.register("incoming_batch", batch)
                try:
                    names = ", ".join(self.columns)
                    # The batch has no repeats (first_per_record_id), and the anti-join leaves out the ones the
                    # table holds: with writes serialised by the lock, that keeps one row per record_id.
                    inserted = con.execute(
                        f"INSERT INTO {self.table} ({names}) SELECT {names} FROM incoming_batch b "
                        f"WHERE NOT EXISTS (SELECT 1 FROM {self.table} t WHERE t.record_id = b.record_id)"
                    ).fetchall()[0][0]
                finally:
                    con.unregister("incoming_batch")
            except duckdb.Error as exc:
                self._reset()
                raise WarehouseError(f"DuckDB write to {self.path} failed: {exc}") from None
            finally:
                self._used()
        return int(inserted)

    def query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with self._lock:
            con = self._connection()
            try:
                cur = con.execute(sql, list(params))
                names = [d[0].lower() for d in cur.description]
                return [dict(zip(names, row)) for row in cur.fetchall()]
            except duckdb.Error as exc:
                raise WarehouseError(f"DuckDB query failed: {exc}") from None
            finally:
                self._used()

    def read(self, sql: str, limit: int) -> tuple[list[str], list[tuple]]:
        """A user's query on a read-only attachment of the file named `catalog` (so catalog.schema.table resolves),
        without access to other files; the writer's own connection is closed meanwhile."""
        with self._lock:
            self._connection()  # the file, table and view exist before they are attached read-only
            self._reset()
            con = duckdb.connect(":memory:")
            try:
                try:
                    path = str(self.path).replace("'", "''")
                    con.execute(f"ATTACH '{path}' AS {self.catalog} (READ_ONLY)")
                    con.execute(f"USE {self.catalog}")
                    con.execute("SET TimeZone = 'UTC'")
                    con.execute("SET enable_external_access = false")
                except duckdb.Error as exc:
                    raise WarehouseError(f"DuckDB {self.path}: {exc}") from None
                try:
                    cur = con.execute(sql)
                    names = [d[0] for d in cur.description or []]
                    return names, cur.fetchmany(limit + 1) if names else []
                except duckdb.Error as exc:
                    raise QueryError(str(exc)) from None
            finally:
                con.close()
                self._used()

    def _reset(self) -> None:
        """Close the file; the next call opens it again (after an error, or to let another process in)."""
        try:
            if self._con is not None:
                self._con.close()
        except duckdb.Error:
            pass
        self._con = None

    def close(self) -> None:
        with self._lock:
            if self._releaser is not None:
                self._releaser.cancel()
                self._releaser = None
            self._reset()
