#!/usr/bin/env python3
"""Memory through a long stream, and one worker against two, on the embedded broker.

  .venv/bin/python benchmarks/scale_bench.py                 # 3M-row stream, then 1 vs 2 workers at 500k rows
  .venv/bin/python benchmarks/scale_bench.py --smoke         # 20k rows each: keeps the benchmark working

Memory: a worker streams --memory-rows rows to DuckDB while its resident memory (RSS, from /proc)
is read every half second: the worker process alone, and with its sampling and training processes.
Bounded memory means backpressure works: the pacer schedules at most MAX_CHUNKS_AHEAD chunks beyond
those sent, and the sink holds one batch at a time.

Scale-out: POST /stream of --scale-rows rows to one worker, then the same with a second worker in
the group (same topics, so the chunks and record partitions are shared). Both land in DuckDB files
of their own (DuckDB allows one writer process per file); rows landed are summed over both.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import Worker, free_port, trained_pipeline  # noqa: E402


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss_mb(pid: int) -> float:
    todo, total = [pid], 0.0
    while todo:
        current = todo.pop()
        total += rss_mb(current)
        todo += _children(current)
    return total


class MemoryWatch(threading.Thread):
    """Peak RSS of a process and of its process tree, sampled every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        while not self.done.is_set():
            self.samples.append((time.perf_counter() - start, rss_mb(self.pid), tree_rss_mb(self.pid)))
            self.done.wait(self.interval)


def stream(workers: list[Worker], rows: int, batch: int = 5000) -> tuple[float, dict]:
    """Rows per second from POST /stream until every row is in the warehouse(s)."""
    start = time.perf_counter()
    stream_id = workers[0].post("/stream", json={"num_samples": rows, "batch_size": batch}).json()["stream_id"]
    while True:
        landed = sum(w.get(f"/stream/{stream_id}").json().get("rows_landed") or 0 for w in workers)
        if landed >= rows:
            break
        state = workers[0].get(f"/stream/{stream_id}").json()
        assert state["state"] not in ("failed", "cancelled"), state
        time.sleep(0.5)
    elapsed = time.perf_counter() - start
    return rows / elapsed, workers[0].get(f"/stream/{stream_id}").json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--memory-rows", type=int, default=3_000_000)
    parser.add_argument("--scale-rows", type=int, default=500_000)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.memory_rows = args.scale_rows = 20_000
    print(f"machine: {os.cpu_count()} CPUs; GaussianCopula fitted on the sample; DuckDB warehouse")
    with trained_pipeline("scale-bench-") as (broker, worker):
        watch = MemoryWatch(worker.process.pid)
        idle_worker, idle_tree = rss_mb(worker.process.pid), tree_rss_mb(worker.process.pid)
        watch.start()
        memory_rate, _ = stream([worker], args.memory_rows)
        watch.done.set()
        watch.join()
        samples = watch.samples
        third = max(len(samples) // 3, 1)
        # growth: the last third's peak against the middle third's; a leak or a buffer shows up here
        middle = max(s[2] for s in samples[third:2 * third] or samples)
        last = max(s[2] for s in samples[2 * third:] or samples)

        one_rate, _ = stream([worker], args.scale_rows)
        second = worker.twin("worker-second.log", WEB_PORT=str(free_port()),
                             STATE_DIR=str(worker.tmp / "state-second"))
        second.start()
        try:
            time.sleep(3)  # let the group settle its partitions before timing
            two_rate, _ = stream([worker, second], args.scale_rows)
        finally:
            second.stop()

    print()
    print(f"Memory through a {args.memory_rows:,}-row stream ({memory_rate:,.0f} rows/s, {len(samples)} samples)")
    print(f"{'process':40s} {'idle MB':>9s} {'peak MB':>9s}")
    print(f"{'worker (event loop, sink)':40s} {idle_worker:>9.0f} {max(s[1] for s in samples):>9.0f}")
    print(f"{'worker + sampling/training processes':40s} {idle_tree:>9.0f} {max(s[2] for s in samples):>9.0f}")
    print(f"peak of the middle third {middle:.0f} MB, of the last third {last:.0f} MB (growth {last - middle:+.0f} MB)")
    print()
    print(f"Scale-out: {args.scale_rows:,} rows, POST /stream to rows in DuckDB")
    print(f"{'workers':10s} {'rows/s':>10s} {'x one worker':>13s}")
    print(f"{'1':10s} {one_rate:>10,.0f} {1:>13.2f}")
    print(f"{'2':10s} {two_rate:>10,.0f} {two_rate / one_rate:>13.2f}")


if __name__ == "__main__":
    main()
