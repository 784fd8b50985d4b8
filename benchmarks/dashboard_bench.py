#!/usr/bin/env python3
"""A stream's speed with the dashboard open, and GET /streams latency with 200 streams over a large table.

  .venv/bin/python benchmarks/dashboard_bench.py [--rows 1000000] [--streams 200] [--table-rows 3000000] [--pairs 1] [--smoke]

One worker, DuckDB, the embedded broker, GaussianCopula fitted on the sample. In one run:

1. setup: --streams finished streams of 10 rows each (listed by GET /streams), then filler streams
   of at most 1,000,000 rows so that the warehouse table holds --table-rows rows once the baseline
   has landed;
2. baseline: a --rows stream (batch_size = the worker's chunk size, interval 0) that no client polls
   (the benchmark checks its state every 5 s); rows/s is the stream's own `rows_per_second` (from
   its created_at to its last landing);
3. GET /streams while idle: one request every 50 ms until --samples answers;
4. dashboard open: the same stream while a client polls GET /streams and GET /stream/{id} every
   0.5 s; its rows/s as a ratio of the baseline (target >= 0.95). The polling is confirmed: every
   answer 200, the first /stream/{id} answer before any row landed, the last after the stream
   completed, no gap between polls over 2 s. Its /streams timings are the busy latency sample.

With --pairs 2 the measured streams alternate (baseline, open, open, baseline; the idle sample
follows the first) and the ratio compares their means: a machine whose load changes during the run
then weighs on both alike. Each stream is printed with the CPU seconds the worker (with its sampling
process) and this client spent on it.

Targets: rows/s with the dashboard open >= 0.95 x the baseline; GET /streams p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from worker.settings import get_settings  # noqa: E402
from tests.harness import Worker, trained_pipeline, wait_for  # noqa: E402

POLL_EVERY = 0.5
PROBE_EVERY = 0.05
BASELINE_CHECK_EVERY = 5.0
MAX_POLL_GAP = 2.0
FILLER_MAX = 1_000_000
RATIO_TARGET, P99_TARGET_MS = 0.95, 50.0


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def table_rows(worker: Worker) -> int:
    """Rows in the warehouse table, counted by the warehouse (not from the status view)."""
    table = worker.get("/warehouse/summary").json()["table"]
    answer = worker.post("/warehouse/sql", json={"sql": f"SELECT count(*) FROM {table}"})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["rows"][0][0])


def start_stream(worker: Worker, rows: int, batch: int) -> str:
    answer = worker.post("/stream", json={"num_samples": rows, "batch_size": batch, "interval_seconds": 0})
    assert answer.status_code == 202, answer.text
    return answer.json()["stream_id"]


def wait_all_completed(worker: Worker, ids: list[str], timeout: float) -> None:
    """Until GET /stream/{id} says completed for each (any failure ends the run)."""
    pending = list(ids)

    def done():
        while pending:
            body = worker.get(f"/stream/{pending[0]}").json()
            assert body["state"] not in ("failed", "cancelled"), body
            if body["state"] != "completed":
                return False
            pending.pop(0)
        return True

    wait_for(done, timeout, f"{len(ids)} streams to complete", interval=0.5)


def baseline(worker: Worker, rows: int, batch: int, timeout: float) -> dict:
    """A stream nobody polls but this check every few seconds; its final view."""
    stream_id = start_stream(worker, rows, batch)
    body = wait_for(lambda: (lambda b: b["state"] in ("completed", "failed", "cancelled") and b)(
        worker.get(f"/stream/{stream_id}").json()), timeout, "the baseline stream", interval=BASELINE_CHECK_EVERY)
    return body


def idle_streams_latency(worker: Worker, samples: int) -> list[float]:
    session, found = requests.Session(), []
    while len(found) < samples:
        start = time.perf_counter()
        answer = session.get(f"{worker.url}/streams", timeout=30)
        found.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.text
        time.sleep(PROBE_EVERY)
    return found


class Dashboard(threading.Thread):
    """A client polling GET /streams and, once it knows the stream, GET /stream/{id}, every 0.5 s."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.stream_id: str | None = None
        self.done = threading.Event()
        self.streams_ms: list[float] = []
        self.streams_listed: list[int] = []
        # (monotonic time, rows_landed, state) of every GET /stream/{id} answer
        self.stream_polls: list[tuple[float, int, str]] = []
        self.statuses: list[int] = []
        self.poll_times: list[float] = []

    def run(self) -> None:
        session = requests.Session()
        while not self.done.is_set():
            tick = time.monotonic()
            self.poll_times.append(tick)
            start = time.perf_counter()
            answer = session.get(f"{self.url}/streams", timeout=30)
            self.streams_ms.append((time.perf_counter() - start) * 1000)
            self.statuses.append(answer.status_code)
            if answer.status_code == 200:
                self.streams_listed.append(len(answer.json()["streams"]))
            if self.stream_id:
                answer = session.get(f"{self.url}/stream/{self.stream_id}", timeout=30)
                self.statuses.append(answer.status_code)
                if answer.status_code == 200:
                    body = answer.json()
                    self.stream_polls.append((time.monotonic(), body["rows_landed"], body["state"]))
            self.done.wait(max(0.0, POLL_EVERY - (time.monotonic() - tick)))


def dashboard_open(worker: Worker, rows: int, batch: int, timeout: float) -> tuple[dict, Dashboard]:
    dashboard = Dashboard(worker.url)
    dashboard.start()
    time.sleep(POLL_EVERY)  # the dashboard is open before the stream starts
    dashboard.stream_id = start_stream(worker, rows, batch)
    try:
        wait_for(lambda: dashboard.stream_polls and dashboard.stream_polls[-1][2] in ("completed", "failed",
                                                                                     "cancelled"),
                 timeout, "the dashboard-open stream", interval=0.2)
        time.sleep(POLL_EVERY * 2)  # a poll or two after the end
    finally:
        dashboard.done.set()
        dashboard.join()
    return worker.get(f"/stream/{dashboard.stream_id}").json(), dashboard


def load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (the sampling process), from /proc."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{current}/task/{current}/children") as f:
                todo += [int(child) for child in f.read().split()]
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measured(worker: Worker, kind: str, rows: int, chunk: int, timeout: float) -> dict:
    """One measured stream, `kind` baseline or open, with the load and CPU seconds around it."""
    load_before, worker_cpu, client_cpu = load(), tree_cpu_seconds(worker.process.pid), time.process_time()
    if kind == "baseline":
        view, dashboard = baseline(worker, rows, chunk, timeout), None
    else:
        view, dashboard = dashboard_open(worker, rows, chunk, timeout)
    return {"kind": kind, "view": view, "dashboard": dashboard, "load": f"{load_before} -> {load()}",
            "worker_cpu": tree_cpu_seconds(worker.process.pid) - worker_cpu,
            "client_cpu": time.process_time() - client_cpu}


def polling_confirmed(dashboard: Dashboard) -> tuple[bool, str]:
    polls = dashboard.stream_polls
    gaps = [b - a for a, b in zip(dashboard.poll_times, dashboard.poll_times[1:])]
    non_200 = [s for s in dashboard.statuses if s != 200]
    confirmed = (bool(polls) and not non_200 and polls[0][1] == 0 and polls[-1][2] == "completed"
                 and max(gaps, default=0) <= MAX_POLL_GAP)
    return confirmed, (
        f"{len(dashboard.streams_ms)} GET /streams and {len(polls)} GET /stream/{{id}}, {len(non_200)} answers not "
        f"200; first /stream/{{id}} answer rows_landed {polls[0][1] if polls else '-'}, last state "
        f"{polls[-1][2] if polls else '-'}; longest gap between polls {max(gaps, default=0):.2f} s: "
        f"{'confirmed throughout' if confirmed else 'NOT confirmed throughout'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the baseline and dashboard-open streams")
    parser.add_argument("--streams", type=int, default=200, help="finished 10-row streams listed by /streams")
    parser.add_argument("--table-rows", type=int, default=3_000_000,
                        help="rows in the warehouse table when /streams is measured (filler streams make up the rest)")
    parser.add_argument("--samples", type=int, default=300, help="idle GET /streams answers")
    parser.add_argument("--pairs", type=int, default=1,
                        help="baseline/dashboard-open pairs, alternating (2: baseline, open, open, baseline) so that "
                        "a change in the machine's load weighs on both alike")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.streams, args.table_rows, args.samples = 10_000, 5, 25_000, 20
    chunk = get_settings().chunk_size
    timeout = max(120.0, args.rows / 1000)  # a stream slower than 1,000 rows/s has gone wrong
    order = [kind for pair in range(args.pairs) for kind in (("baseline", "open") if pair % 2 == 0
                                                             else ("open", "baseline"))]
    print(f"machine: {os.cpu_count()} CPUs, load average at start {load()}; one worker, DuckDB, embedded broker; "
          f"GaussianCopula fitted on the sample; chunk size {chunk:,}")
    with trained_pipeline("dashboard-bench-") as (_, worker):
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:  # POST /stream answers once the status view knows the stream
            small = list(pool.map(lambda _: start_stream(worker, 10, 10), range(args.streams)))
        wait_all_completed(worker, small, 300)
        small_seconds = time.monotonic() - started
        filler_rows = max(0, args.table_rows - args.rows - 10 * args.streams)
        fillers = [start_stream(worker, min(FILLER_MAX, filler_rows - done), chunk)
                   for done in range(0, filler_rows, FILLER_MAX)]
        wait_all_completed(worker, fillers, max(300.0, filler_rows / 1000))
        setup_seconds = time.monotonic() - started

        runs = [measured(worker, order[0], args.rows, chunk, timeout)]
        time.sleep(3)  # idle: the sink's last commit and reports are through
        rows_idle = table_rows(worker)
        listing = worker.get("/streams").json()
        idle_ms = idle_streams_latency(worker, args.samples)
        runs += [measured(worker, kind, args.rows, chunk, timeout) for kind in order[1:]]
        time.sleep(3)
        rows_after = table_rows(worker)

    rates = {kind: [r["view"]["rows_per_second"] or 0.0 for r in runs if r["kind"] == kind]
             for kind in ("baseline", "open")}
    base_rate = statistics.mean(rates["baseline"])
    ratio = statistics.mean(rates["open"]) / base_rate if base_rate else 0.0
    checks = [polling_confirmed(r["dashboard"]) for r in runs if r["dashboard"]]
    confirmed = all(ok for ok, _ in checks)
    busy_ms = [ms for r in runs if r["dashboard"] for ms in r["dashboard"].streams_ms]
    mode = "smoke" if args.smoke else "full"
    names = {"baseline": "baseline (no client polling)", "open": "dashboard open (polls every 0.5 s)"}

    print(f"\nDashboard open ({mode} run; setup {setup_seconds:.0f} s: {args.streams} streams of 10 rows in "
          f"{small_seconds:.0f} s, then {len(fillers)} filler streams of {filler_rows:,} rows in all)")
    print(f"{'stream of ' + format(args.rows, ',') + ' rows, in run order':40s} {'state':>10s} {'rows landed':>12s} "
          f"{'rows/s':>9s} {'x baseline':>11s} {'worker CPU s':>13s} {'client CPU s':>13s}  load average start -> end")
    for r in runs:
        view = r["view"]
        print(f"{names[r['kind']]:40s} {view['state']:>10s} {view['rows_landed']:>12,} "
              f"{view['rows_per_second'] or 0:>9,.0f} {(view['rows_per_second'] or 0) / base_rate:>11.2f} "
              f"{r['worker_cpu']:>13.1f} {r['client_cpu']:>13.1f}  {r['load']}")
    print("(x baseline: against the mean of the baselines; worker CPU: the worker and its sampling process)")
    for _, line in checks:
        print(f"polling: {line}")
    print(f"\nGET /streams latency, ms ({listing['total_count']} streams known, {len(listing['streams'])} listed)")
    print(f"{'phase':66s} {'n':>5s} {'p50':>8s} {'p99':>8s}")
    phases = (
        (f"idle (table {rows_idle:,} rows)", idle_ms),
        (f"dashboard-open streams running (table {rows_idle:,} -> {rows_after:,} rows)", busy_ms),
    )
    for phase, values in phases:
        print(f"{phase:66s} {len(values):>5d} {percentile(values, 50):>8.1f} {percentile(values, 99):>8.1f}")
    print(f"\ntarget: rows/s with the dashboard open >= {RATIO_TARGET} x baseline: {ratio:.2f}, "
          f"{'met' if ratio >= RATIO_TARGET else 'not met'}")
    for phase, values in phases:
        p99 = percentile(values, 99)
        print(f"target: GET /streams p99 < {P99_TARGET_MS:.0f} ms, {phase.split(' (')[0]} "
              f"(n={len(values)}): {p99:.1f} ms, {'met' if p99 < P99_TARGET_MS else 'not met'}"
              f"{f' (fewer than {args.samples} samples)' if len(values) < args.samples else ''}")
    if any(r["view"]["state"] != "completed" for r in runs):
        raise SystemExit("a measured stream did not complete")
    if not confirmed and not args.smoke:
        raise SystemExit("the polling was not confirmed throughout a dashboard-open stream")


if __name__ == "__main__":
    main()
