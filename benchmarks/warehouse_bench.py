"""Rows per second into Snowflake (a fakesnow server, stage path) and DuckDB, next to row-by-row INSERT baselines.

    .venv/bin/python benchmarks/warehouse_bench.py [--smoke]

Starts its own fakesnow server and DuckDB file in a temporary folder. Each batch is new rows shaped as
the sink builds them, with record_ids made as the pipeline makes them (uuid5: random keys, the costly
case for an index); the time covers the whole writer.write (Arrow, Parquet, PUT, COPY, MERGE for
Snowflake; Arrow and an INSERT of the rows not stored yet for DuckDB, also into a table that has the
PRIMARY KEY an earlier version created). The baselines send the same rows one
parameterised INSERT per row through executemany, capped because they are slow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import snowflake.connector  # noqa: E402

from tests.warehouse.fakesnow_server import FakesnowServer  # noqa: E402
from synthesis.sampling import record_id  # noqa: E402
from tests.warehouse.rows import make_rows  # noqa: E402
from warehouse.duckdb import DuckDBWriter  # noqa: E402
from warehouse.snowflake import SnowflakeWriter  # noqa: E402

SIZES, SMOKE_SIZES = (1_000, 10_000, 100_000), (100, 500)
# Row-by-row runs ~100 rows/s on fakesnow (one statement per row) and a few hundred on DuckDB: cap them.
BASELINE_CAP = {"snowflake": 2_000, "duckdb": 2_000}
TARGETS = {"snowflake": 50_000, "duckdb": 200_000}
REPEATS = 5  # the best of a few batches: the numbers are about the code, not about a neighbour's CPU burst
CREDENTIALS = {"account": "bench", "user": "bench", "password": "bench"}


def pipeline_rows(n: int, seed: int) -> list[dict]:
    """make_rows with the pipeline's record_ids (uuid5 of request, chunk, row) instead of sequential ones."""
    rows = make_rows(n, seed=seed)
    for i, row in enumerate(rows):
        row["record_id"] = record_id(row["request_id"], 0, i)
    return rows


def timed_writes(writer, sizes, repeats: int, prefill: int = 0) -> list[tuple[int, int, float, float, float]]:
    """(batch size, rows written, best and median seconds of `repeats` batches of new rows, median CPU seconds
    of this process), after a warm-up. CPU time counts DuckDB's threads too; on a shared machine it moves
    less with the neighbours' load than wall time does."""
    writer.open()
    writer.write(make_rows(100, "warm-up"))  # the first write pays lazy imports and session set-up
    for start in range(0, prefill, 100_000):  # a table already holding rows: the check against it grows with them
        writer.write(pipeline_rows(min(100_000, prefill - start), seed=start))
    results = []
    for n in sizes:
        times, cpu = [], []
        for _ in range(repeats):
            rows = pipeline_rows(n, seed=n)
            start, start_cpu = time.perf_counter(), time.process_time()
            inserted = writer.write(rows)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert inserted == n, f"{writer.name}: wrote {inserted} of {n} new rows"
        results.append((n, n, min(times), statistics.median(times), statistics.median(cpu)))
    return results


def as_params(rows, columns) -> list[tuple]:
    def value(v):
        return datetime.fromisoformat(v).replace(tzinfo=None) if isinstance(v, str) and v[:2] == "20" else v

    return [tuple(value(row.get(c)) if columns[c] == "TIMESTAMP" else row.get(c) for c in columns) for row in rows]


def timed_executemany(cursor, table, columns, sizes, cap) -> list[tuple[int, int, float]]:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    seconds: dict[int, float] = {}  # batches past the cap time the same capped count: run it once
    for count in sorted({min(n, cap) for n in sizes}):
        rows = make_rows(count, f"row-by-row-{count}")
        start = time.perf_counter()
        cursor.executemany(sql, as_params(rows, columns))
        seconds[count] = time.perf_counter() - start
    return [(n, min(n, cap), seconds[min(n, cap)], seconds[min(n, cap)], float("nan")) for n in sizes]


def snowflake_runs(server: FakesnowServer, sizes, cap, repeats):
    writer = SnowflakeWriter(**CREDENTIALS, database="BENCH", **server.connect_args)
    stage = timed_writes(writer, sizes, repeats)
    con = snowflake.connector.connect(
        **CREDENTIALS, database="BENCH", schema="SYNTHETIC_DATA", paramstyle="qmark", **server.connect_args
    )
    with con.cursor() as cur:
        cur.execute(f"CREATE OR REPLACE TABLE ROW_BY_ROW LIKE {writer.table}")
        baseline = timed_executemany(cur, "ROW_BY_ROW", writer.columns, sizes, cap)
    con.close()
    writer.close()
    return stage, baseline


def duckdb_runs(path: Path, sizes, cap, repeats, prefill: int = 0):
    writer = DuckDBWriter(path)
    arrow = timed_writes(writer, sizes, repeats, prefill)
    columns = dict(writer.columns)
    writer.close()
    keyed = primary_key_runs(path.with_name("keyed.duckdb"), columns, sizes, repeats, prefill)
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE row_by_row AS SELECT {', '.join(columns)} FROM {writer.table} LIMIT 0")
    baseline = timed_executemany(con, "row_by_row", columns, sizes, cap)
    con.close()
    return arrow, keyed, baseline


def primary_key_runs(path: Path, columns: dict[str, str], sizes, repeats, prefill: int = 0):
    """The same writer on a table an earlier version created, with record_id as its PRIMARY KEY."""
    con = duckdb.connect(str(path))
    cols = ", ".join(f"{n} {t}" for n, t in columns.items() if n != "record_id")
    con.execute(f"CREATE TABLE PATIENT_DATA (record_id VARCHAR PRIMARY KEY, {cols})")
    con.close()
    writer = DuckDBWriter(path)
    try:
        return timed_writes(writer, sizes, repeats, prefill)
    finally:
        writer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny batches: checks the benchmark runs")
    parser.add_argument("--duckdb-only", action="store_true", help="skip the Snowflake (fakesnow) runs")
    parser.add_argument("--prefill", type=int, default=0, help="rows in each DuckDB table before the timed writes")
    parser.add_argument("--sizes", type=lambda text: tuple(int(n) for n in text.split(",")),
                        help="batch sizes, comma-separated (default 1000,10000,100000)")
    args = parser.parse_args()
    sizes = SMOKE_SIZES if args.smoke else args.sizes or SIZES
    repeats = 1 if args.smoke else REPEATS
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; "
          f"writer paths: best of {repeats} batches of new rows; baselines: one run; "
          f"DuckDB tables hold {args.prefill:,} rows before the timed writes")
    caps = {k: min(v, 100) for k, v in BASELINE_CAP.items()} if args.smoke else BASELINE_CAP
    with tempfile.TemporaryDirectory(prefix="warehouse-bench-") as tmp:
        sf_stage = sf_rows = []
        if not args.duckdb_only:
            server = FakesnowServer(Path(tmp) / "fakesnow").start()
            try:
                sf_stage, sf_rows = snowflake_runs(server, sizes, caps["snowflake"], repeats)
            finally:
                server.stop()
        dd_arrow, dd_keyed, dd_rows = duckdb_runs(Path(tmp) / "bench.duckdb", sizes, caps["duckdb"], repeats,
                                                  args.prefill)

    table = [
        ("snowflake (fakesnow)", "stage: Parquet PUT, COPY, MERGE", sf_stage),
        ("snowflake (fakesnow)", "row-by-row executemany INSERT", sf_rows),
        ("duckdb (file)", "Arrow INSERT ... WHERE NOT EXISTS", dd_arrow),
        ("duckdb (file)", "same, table with PRIMARY KEY", dd_keyed),
        ("duckdb (file)", "row-by-row executemany INSERT", dd_rows),
    ]
    print(f"\n{'warehouse':<22}{'path':<34}{'batch':>9}{'rows timed':>12}{'samples':>8}{'best s':>9}"
          f"{'rows/s':>11}{'median s':>10}{'rows/s':>11}{'rows/CPU-s':>12}")
    for warehouse, path, results in table:
        samples = 1 if "row-by-row" in path else repeats
        for batch, rows, best, median, cpu in results:
            per_cpu = f"{rows / cpu:>12,.0f}" if cpu == cpu and cpu > 0 else f"{'':>12}"
            print(f"{warehouse:<22}{path:<34}{batch:>9,}{rows:>12,}{samples:>8}{best:>9.3f}{rows / best:>11,.0f}"
                  f"{median:>10.3f}{rows / median:>11,.0f}{per_cpu}")
    print()
    if args.smoke:
        print("smoke run: the targets apply to full runs")
        return 0
    for name, results in (("snowflake", sf_stage), ("duckdb", dd_arrow)):
        if not results:
            continue
        batch, rows, best, median, cpu = results[-1]
        verdict = "met" if rows / best >= TARGETS[name] else "MISSED"
        print(f"target {name}: >= {TARGETS[name]:,} rows/s at {batch:,} rows: best of {repeats} {rows / best:,.0f} "
              f"({verdict}), median {rows / median:,.0f}, {rows / cpu:,.0f} rows per CPU-second")
    _, _, best, _, cpu = dd_keyed[-1]
    print(f"duckdb without the primary key: {best / dd_arrow[-1][2]:.2f}x the keyed table's "
          f"rows/s (best), {cpu / dd_arrow[-1][4]:.2f}x its rows per CPU-second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
