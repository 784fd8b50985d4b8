#!/usr/bin/env python3
"""Load on the API from many clients at once: p50/p99 of POST /generate (100 rows, inline) and GET /health.

  .venv/bin/python benchmarks/load_bench.py [--clients 50] [--seconds 60] [--smoke]

Every client loops over the two requests on its own connection for the whole run, while a stream
runs in the same worker. All clients come from 127.0.0.1, so the worker runs with
MAX_EXPENSIVE_REQUESTS_PER_CLIENT raised to the number of clients (the default, 4, would answer 429).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import trained_pipeline  # noqa: E402

REQUESTS = ("POST /generate (100 rows)", "GET /health")


async def client(url: str, deadline: float, found: dict, errors: dict) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        while time.monotonic() < deadline:
            for name in REQUESTS:
                start, status = time.perf_counter(), None
                try:
                    if name.startswith("POST"):
                        async with session.post(f"{url}/generate", json={"num_samples": 100}) as resp:
                            status = resp.status
                            ok = status == 200 and len((await resp.json())["records"]) == 100
                    else:
                        async with session.get(f"{url}/health") as resp:
                            status = resp.status
                            ok = status == 200 and (await resp.json())["status"] == "ok"
                except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, ValueError) as exc:
                    ok, status = False, f"{status or ''} {type(exc).__name__}".strip()
                found[name].append((time.perf_counter() - start) * 1000)
                if not ok:
                    errors[name].append(status)


async def load(url: str, clients: int, seconds: float) -> tuple[dict, dict]:
    found = {name: [] for name in REQUESTS}
    errors = {name: [] for name in REQUESTS}
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(client(url, deadline, found, errors) for _ in range(clients)))
    return found, errors


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the stream that runs meanwhile")
    parser.add_argument("--smoke", action="store_true", help="5 clients for 3 s")
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.seconds, args.rows = 5, 3, 5_000
    cap = str(args.clients)
    print(f"worker runs with MAX_EXPENSIVE_REQUESTS_PER_CLIENT={cap}: every client connects from 127.0.0.1")
    with trained_pipeline("load-bench-", MAX_EXPENSIVE_REQUESTS_PER_CLIENT=cap) as (_, worker):
        worker.post("/generate", json={"num_samples": 10})  # warm the sampling process
        stream = worker.post("/stream", json={"num_samples": args.rows, "batch_size": 5000}).json()["stream_id"]
        found, errors = asyncio.run(load(worker.url, args.clients, args.seconds))
        landed = worker.get(f"/stream/{stream}").json()["rows_landed"]
    print(f"\n{args.clients} clients for {args.seconds:.0f} s, loopback, while a stream runs; latency in ms")
    print(f"{'request':28s} {'requests':>9s} {'errors':>7s} {'p50':>8s} {'p99':>8s}")
    for name in REQUESTS:
        values = found[name]
        print(f"{name:28s} {len(values):>9d} {len(errors[name]):>7d} {percentile(values, 50):>8.1f} "
              f"{percentile(values, 99):>8.1f}")
    print(f"rows landed by the stream meanwhile: {landed}")
    for name in REQUESTS:
        for error in sorted(set(map(str, errors[name])))[:5]:
            print(f"error in {name}: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
