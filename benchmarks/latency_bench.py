#!/usr/bin/env python3
"""API latency while the worker is busy: p50/p99 of GET /health and POST /generate (100 rows).

  .venv/bin/python benchmarks/latency_bench.py [--seconds 30] [--rows 1000000] [--smoke]

Measured first on an idle worker, then while a CTGAN training and a stream run in the same worker.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import Worker, trained_pipeline  # noqa: E402


def measure(worker: Worker, seconds: float) -> dict[str, list[float]]:
    """Alternate GET /health and POST /generate for `seconds`; latencies in ms."""
    session = requests.Session()
    found: dict[str, list[float]] = {"GET /health": [], "POST /generate (100 rows)": []}
    errors = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, call in (("GET /health", lambda: session.get(f"{worker.url}/health", timeout=30)),
                           ("POST /generate (100 rows)", lambda: session.post(
                               f"{worker.url}/generate", json={"num_samples": 100}, timeout=60))):
            start = time.perf_counter()
            resp = call()
            found[name].append((time.perf_counter() - start) * 1000)
            errors += resp.status_code >= 500 or (name.startswith("POST") and resp.status_code != 200)
    found["errors"] = [errors]
    return found


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description="API latency while busy")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rows = 3, 5_000
    with trained_pipeline("latency-bench-", TRAINING_PROCESSES="1") as (_, worker):
        worker.post("/generate", json={"num_samples": 10})  # warm the sampling process
        idle = measure(worker, args.seconds)
        worker.post("/train", json={"model_name": "busy", "method": "ctgan", "epochs": 2 if args.smoke else 100})
        stream = worker.post("/stream", json={"num_samples": args.rows, "batch_size": 5000}).json()["stream_id"]
        busy = measure(worker, args.seconds)
        landed = worker.get(f"/stream/{stream}").json()["rows_landed"]
    print(f"\nAPI latency, ms ({'smoke' if args.smoke else 'full'} run, {args.seconds:.0f} s per phase)")
    print(f"{'request':28s} {'phase':42s} {'n':>5s} {'p50':>8s} {'p99':>8s}")
    for phase, found in (("idle", idle), ("busy: CTGAN training + stream running", busy)):
        for name in ("GET /health", "POST /generate (100 rows)"):
            values = found[name]
            print(f"{name:28s} {phase:42s} {len(values):>5d} {percentile(values, 50):>8.1f} {percentile(values, 99):>8.1f}")
        print(f"{'errors (5xx or failed)':28s} {phase:42s} {found['errors'][0]:>5d}")
    print(f"rows landed by the stream during the busy phase: {landed}")


if __name__ == "__main__":
    main()
