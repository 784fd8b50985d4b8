"""Snowflake: a batch lands as one Parquet file, PUT to a stage, COPY-ed to a session table, MERGE-d on record_id."""

from __future__ import annotations

import logging
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pydantic import SecretStr
from snowflake.connector import errors as sf_errors

from warehouse.base import QueryError, WarehouseError, WarehouseWriter, first_per_record_id
from warehouse.columnar import to_arrow
from warehouse.snowflake_session import FAILURES, SnowflakeSession, is_transient

logger = logging.getLogger(__name__)

SNOWFLAKE_TYPES = {
    "VARCHAR": "VARCHAR", "DOUBLE": "DOUBLE", "INTEGER": "INTEGER", "BIGINT": "BIGINT", "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP_NTZ",
}
# information_schema's names for the types of columns an earlier run added, back to the writer's names.
_FROM_SNOWFLAKE = {"TEXT": "VARCHAR", "FLOAT": "DOUBLE", "NUMBER": "BIGINT", "BOOLEAN": "BOOLEAN",
                   "TIMESTAMP_NTZ": "TIMESTAMP"}
# Unquoted identifiers only: Snowflake upper-cases them, so the same SQL reads the same on DuckDB and Snowflake.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")
_INSUFFICIENT_PRIVILEGES = 3001


class SnowflakeWriter(WarehouseWriter):
    name = "snowflake"

    def __init__(
        self, *, account: str, user: str, password: SecretStr | str | None = None,
        private_key_file: Path | str | None = None, private_key_passphrase: SecretStr | str | None = None,
        role: str | None = None, warehouse: str | None = None, database: str = "CARDIOVASCULAR_DB",
        schema: str = "SYNTHETIC_DATA", table: str = "PATIENT_DATA", host: str | None = None,
        port: int | None = None, protocol: str | None = None, attempts: int = 3, retry_delay: float = 1.0,
        network_timeout: int = 120,
    ):
        for label, value in (("database", database), ("schema", schema), ("table", table),
                             ("role", role), ("warehouse", warehouse)):
            if value is not None and not _IDENTIFIER.fullmatch(value):
                raise WarehouseError(f"Snowflake {label} {value!r} is not a plain identifier (letters, digits, _ or $)")
        super().__init__(table.upper())
        self.database, self.schema = database.upper(), schema.upper()
        self.stage = f"{self.table}_STAGE"
        self.incoming = f"{self.table}_INCOMING"
        self._opened = False
        connect_args = {
            "account": account, "user": user, "database": self.database, "schema": self.schema,
            "role": role, "warehouse": warehouse, "host": host, "port": port, "protocol": protocol,
            "paramstyle": "qmark", "application": "cardiosynth", "session_parameters": {"TIMEZONE": "UTC"},
        }
        self.session = SnowflakeSession(
            {k: v for k, v in connect_args.items() if v is not None},
            password=SecretStr(password) if isinstance(password, str) else password,
            private_key_file=Path(private_key_file) if private_key_file else None,
            private_key_passphrase=(
                SecretStr(private_key_passphrase) if isinstance(private_key_passphrase, str) else private_key_passphrase
            ),
            attempts=attempts, retry_delay=retry_delay, network_timeout=network_timeout,
        )

    @classmethod
    def from_settings(cls, settings) -> SnowflakeWriter:
        return cls(
            account=settings.snowflake_account, user=settings.snowflake_user, password=settings.snowflake_password,
            private_key_file=settings.snowflake_private_key_file,
            private_key_passphrase=settings.snowflake_private_key_passphrase, role=settings.snowflake_role,
            warehouse=settings.snowflake_warehouse, database=settings.snowflake_database,
            schema=settings.snowflake_schema, table=settings.snowflake_table, host=settings.snowflake_host,
            port=settings.snowflake_port, protocol=settings.snowflake_protocol,
            network_timeout=settings.snowflake_network_timeout,
        )

    def __repr__(self) -> str:
        return f"SnowflakeWriter({self.database}.{self.schema}.{self.table}, {self.session!r})"

    @staticmethod
    def _execute(cur, sql: str, params: tuple | None = None):
        return cur.execute(sql, params or None)

    def open(self) -> None:
        if not self._opened:
            self.session.run(self._create_objects, f"open of {self.database}.{self.schema}.{self.table}")
            self._opened = True
            logger.info("Snowflake: writing to %s.%s.%s", self.database, self.schema, self.table)

    def _create_objects(self, cur) -> None:
        defaults = {"ingested_at": " DEFAULT CURRENT_TIMESTAMP()"}
        cols = ", ".join(
            f"{n} {SNOWFLAKE_TYPES[t]}{defaults.get(n, '')}" for n, t in self.columns.items() if n != "record_id"
        )
        for sql in (f"CREATE DATABASE IF NOT EXISTS {self.database}",
                    f"CREATE SCHEMA IF NOT EXISTS {self.database}.{self.schema}"):
            try:
                self._execute(cur, sql)
            except sf_errors.ProgrammingError as exc:
                if exc.errno != _INSUFFICIENT_PRIVILEGES:
                    raise
                # A least-privilege role may use a database it may not create: USE SCHEMA says if it is missing.
                logger.info("Snowflake: no privilege for %r, assuming it exists", sql)
        for sql in (
            f"USE SCHEMA {self.database}.{self.schema}",
            f"CREATE TABLE IF NOT EXISTS {self.table} (record_id VARCHAR NOT NULL PRIMARY KEY, {cols})",
            f"CREATE STAGE IF NOT EXISTS {self.stage} FILE_FORMAT = (TYPE = PARQUET)",
        ):
            self._execute(cur, sql)
        self._execute(
            cur, "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", (self.schema, self.table),
        )
        for name, data_type in cur.fetchall():
            if data_type.upper() in _FROM_SNOWFLAKE:
                self.columns.setdefault(name.lower(), _FROM_SNOWFLAKE[data_type.upper()])

    def write(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        self.open()
        rows = first_per_record_id(rows)  # Snowflake does not enforce primary keys: MERGE would store repeats
        added = self.new_columns(rows)
        try:
            with tempfile.TemporaryDirectory(prefix="cardiosynth-snowflake-") as tmp:
                path = Path(tmp) / "batch.parquet"
                pq.write_table(to_arrow(rows, {**self.columns, **added}), path, compression="snappy")
                return self.session.run(lambda cur: self._load(cur, path, added), f"write of {len(rows)} rows")
        except OSError as exc:  # the local Parquet file: a full or read-only temp directory
            raise WarehouseError(f"Snowflake write could not stage its batch file: {exc}") from None
        except WarehouseError:
            # After an outage the database, schema, table or stage may be gone (a server restarted
            # without its data, a dropped schema): the next attempt first creates what is missing.
            self._opened = False
            raise

    def _load(self, cur, path: Path, added: dict[str, str]) -> int:
        for name, sql_type in added.items():
            self._execute(cur, f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS {name} {SNOWFLAKE_TYPES[sql_type]}")
            self.columns[name] = sql_type
        # A fresh folder per attempt: a retried batch is never mistaken for a file the stage already loaded.
        folder = f"@{self.stage}/{uuid.uuid4().hex}/"
        self._execute(cur, f"CREATE OR REPLACE TEMPORARY TABLE {self.incoming} LIKE {self.table}")
        self._execute(cur, f"PUT 'file://{path.as_posix()}' {folder} AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
        names = list(self.columns)
        # COPY with a transformation (the form the connector's own write_pandas uses) rather than
        # MATCH_BY_COLUMN_NAME: fakesnow resolves MATCH_BY_COLUMN_NAME targets as database.schema.table,
        # where a temporary table is not found. Parquet keys are case-sensitive: the file's are lower-case.
        select = ", ".join(f'$1:"{n}"::{SNOWFLAKE_TYPES[self.columns[n]]}' for n in names)
        try:
            self._execute(
                cur, f"COPY INTO {self.incoming} ({', '.join(names)}) FROM (SELECT {select} FROM {folder}) "
                "FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE) PURGE = TRUE",
            )
            results = cur.fetchall()
            if not results or len(results[0]) < 2 or any(r[1] != "LOADED" for r in results):
                raise WarehouseError(f"Snowflake COPY from {folder} did not load the batch: {results!r:.300}")
        except (WarehouseError, *FAILURES) as exc:
            if not is_transient(exc):  # the session still works: take the file off the stage (PURGE did not)
                self._remove_quietly(cur, folder)
            raise
        self._execute(
            cur, f"MERGE INTO {self.table} t USING {self.incoming} s ON t.record_id = s.record_id "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(names)}) VALUES ({', '.join('s.' + n for n in names)})",
        )
        counts = dict(zip((d[0].lower() for d in cur.description), cur.fetchone()))
        return int(counts.get("number of rows inserted", 0))

    def _remove_quietly(self, cur, folder: str) -> None:
        try:
            self._execute(cur, f"REMOVE {folder}")
        except FAILURES as exc:  # fakesnow has no REMOVE; on Snowflake a leftover file is only clutter
            logger.debug("could not remove %s from the stage: %s", folder, self.session.redact(exc))

    def query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        self.open()

        def run(cur) -> list[dict[str, Any]]:
            self._execute(cur, sql, tuple(params))
            names = [d[0].lower() for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

        return self.session.run(run, "query")

    def read(self, sql: str, limit: int) -> tuple[list[str], list[tuple]]:
        self.open()

        def run(cur):
            try:
                self._execute(cur, sql)
            except sf_errors.ProgrammingError as exc:  # the query's fault: not retried, the session stays
                return exc
            names = [d[0] for d in cur.description or []]
            return names, cur.fetchmany(limit + 1) if names else []

        answer = self.session.run(run, "query")
        if isinstance(answer, Exception):
            raise QueryError(self.session.redact(answer))
        return answer

    def close(self) -> None:
        self.session.close()
