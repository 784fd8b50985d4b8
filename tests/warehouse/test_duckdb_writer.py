"""DuckDBWriter on a real DuckDB file: the same outcomes the Snowflake writer is held to."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb

from tests.exactly_once import assert_each_once, stored_ids
from tests.warehouse.rows import make_rows
from warehouse.duckdb import DuckDBWriter


def landed(writer) -> dict:
    return writer.query(
        f"SELECT count(*) AS n, count(DISTINCT record_id) AS ids, count(kafka_offset) AS offsets, "
        f"count(kafka_topic) AS topics, count(kafka_partition) AS partitions, min(kafka_offset) AS first, "
        f"max(kafka_offset) AS last FROM {writer.table}"
    )[0]


def test_open_creates_the_table_in_the_file(duckdb_writer):
    duckdb_writer.open()

    assert duckdb_writer.path.exists()
    columns = duckdb_writer.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", (duckdb_writer.table,)
    )
    assert {c["column_name"].lower() for c in columns} == set(duckdb_writer.columns)


def test_20000_rows_land_once_each_with_kafka_coordinates(duckdb_writer):
    assert duckdb_writer.write(make_rows(20_000)) == 20_000

    assert landed(duckdb_writer) == {
        "n": 20_000, "ids": 20_000, "offsets": 20_000, "topics": 20_000, "partitions": 20_000,
        "first": 0, "last": 19_999,
    }


def test_a_replayed_batch_is_stored_once(duckdb_writer):
    rows = make_rows(20_000)
    duckdb_writer.write(rows)

    assert duckdb_writer.write(rows) == 0
    assert_each_once(stored_ids(duckdb_writer), (r["record_id"] for r in rows))
    more = make_rows(300, rows[0]["request_id"], offset=20_000)
    assert duckdb_writer.write(rows[-500:] + more) == 300
    assert_each_once(stored_ids(duckdb_writer), (r["record_id"] for r in rows + more))


def test_new_columns_are_added_and_found_again_on_reopen(duckdb_writer):
    rows = make_rows(50)
    for i, row in enumerate(rows):
        row.update(risk_score=i / 10, on_statins=i % 2 == 0)

    assert duckdb_writer.write(rows) == 50

    assert duckdb_writer.query(
        f"SELECT sum(risk_score) AS total, count_if(on_statins) AS statins FROM {duckdb_writer.table}"
    ) == [{"total": 122.5, "statins": 25}]
    duckdb_writer.close()
    reopened = DuckDBWriter(duckdb_writer.path)
    reopened.open()
    assert reopened.columns["risk_score"] == "DOUBLE" and reopened.columns["on_statins"] == "BOOLEAN"
    reopened.close()


def test_summary_and_landed_since(duckdb_writer):
    first, second = make_rows(120, model_version=1), make_rows(30, model_version=2)
    duckdb_writer.write(first)
    duckdb_writer.write(second)

    summary = duckdb_writer.summary()
    assert summary["warehouse"] == "duckdb" and summary["table"] == "PATIENT_DATA"
    assert summary["row_count"] == summary["distinct_record_ids"] == 150
    assert summary["latest_ingested_at"] == max(first[0]["ingested_at"], second[0]["ingested_at"])
    assert summary["rows_per_model_version"] == [
        {"model_name": "cvd", "model_version": 1, "rows": 120}, {"model_name": "cvd", "model_version": 2, "rows": 30},
    ]
    count, last = duckdb_writer.landed_since(second[0]["request_id"])
    assert (count, last.isoformat()) == (30, second[0]["ingested_at"])
    assert duckdb_writer.landed_since("no-such-request") == (0, None)


def test_a_batch_repeating_a_record_id_stores_it_once(duckdb_writer):
    rows = make_rows(10)
    assert duckdb_writer.write(rows + rows[:3]) == 10
    assert_each_once(stored_ids(duckdb_writer), (r["record_id"] for r in rows))


def test_writers_of_one_file_writing_at_once_store_each_record_once(tmp_path):
    """Without a primary key, one row per record_id rests on the writers of a file taking turns."""
    writers = [DuckDBWriter(tmp_path / "shared.duckdb") for _ in range(4)]
    rows = make_rows(20_000)
    with ThreadPoolExecutor(len(writers)) as pool:
        inserted = list(pool.map(lambda w: w.write(rows[: 15_000 + 1_000 * writers.index(w)]), writers))

    assert sum(inserted) == 18_000
    assert_each_once(stored_ids(writers[0]), (r["record_id"] for r in rows[:18_000]))
    for writer in writers:
        writer.close()


def test_a_table_with_the_earlier_primary_key_still_stores_each_record_once(tmp_path):
    path = tmp_path / "keyed.duckdb"
    writer = DuckDBWriter(path)
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in writer.columns.items() if name != "record_id")
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE {writer.table} (record_id VARCHAR PRIMARY KEY, {columns})")
    con.close()
    rows = make_rows(1_000)

    assert writer.write(rows) == 1_000
    assert writer.write(rows[500:] + make_rows(10, offset=1_000, request_id=rows[0]["request_id"])) == 10
    assert_each_once(stored_ids(writer), [r["record_id"] for r in rows] +
                     [f"{rows[0]['request_id']}-{i}" for i in range(1_000, 1_010)])
    writer.close()


EXIT_SCRIPT = """
import atexit, sys
sys.path.insert(0, {root!r})
def check():  # registered before warehouse.duckdb's own handler, so it runs after it
    print("closed" if writer._con is None and writer._releaser is None else "still open", flush=True)
atexit.register(check)
from warehouse.duckdb import DuckDBWriter
writer = DuckDBWriter({path!r}, release_after=60)
writer.write([{{"record_id": "a", "x": 1}}])
"""


def test_writers_are_closed_at_exit_before_daemon_threads_stop(tmp_path):
    """A release timer that fired during interpreter finalization died inside DuckDB's close and the
    process aborted ("FATAL: exception not rethrown", seen after a full test run): open writers are
    closed by an atexit handler, which runs while threads still can."""
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    script = EXIT_SCRIPT.format(root=root, path=str(tmp_path / "w.duckdb"))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "closed"
