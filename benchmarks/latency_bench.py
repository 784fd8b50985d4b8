#!/usr/bin/env python3
"""API latency while the worker is busy: p50/p99 of GET /health, GET /stream/{id}, POST /generate (100 rows),
and of accepting work: POST /stream, POST /generate to Kafka and POST /train.

  .venv/bin/python benchmarks/latency_bench.py [--seconds 30] [--rows 1000000] [--samples 300] [--smoke]

Measured first on an idle worker, then while a CTGAN training and a stream run in the same worker. The
probes of /health and /stream/{id} go every 50 ms on their own thread, /generate on another (it takes
longer), each phase lasting until every probe has --samples answers. The accepting POSTs (POST /stream and
POST /generate to Kafka of 10 rows, POST /train of a GaussianCopula) are each followed at once by a GET
of the id they returned; a 404 there counts as an error (read-your-writes). Idle, they run after the idle
phase, one at a time in turn until each has --samples answers, so that the work they start does not load
the idle phase; the worker is then restarted once their streams have ended, which ends the trainings they
queued. Busy, each probes every second on its own thread (the trainings queue behind the CTGAN one). The
busy phase is confirmed: the training must be running and the stream running with more rows landed at
both its start and its end; otherwise the run says so and exits 1 (a smoke run only reports it). It
also prints how long the worker's event-loop thread waited for a CPU then, and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import Worker, trained_pipeline, wait_for  # noqa: E402

PROBE_EVERY = 0.05
ACCEPT_EVERY = 1.0  # each accepted POST starts work (a 10-row stream, a training): far fewer than the GET probes
HEALTH, STREAM, GENERATE = "GET /health", "GET /stream/{id}", "POST /generate (100 rows)"
ACCEPT_STREAM, ACCEPT_KAFKA, ACCEPT_TRAIN = "POST /stream (accept)", "POST /generate to Kafka", "POST /train (accept)"
ACCEPTING = {  # the POST's body, the field of its answer holding the id, the path that reads it back
    ACCEPT_STREAM: ("/stream", {"num_samples": 10, "batch_size": 10}, "stream_id", "/stream/{}"),
    ACCEPT_KAFKA: ("/generate", {"num_samples": 10, "send_to_kafka": True}, "request_id", "/stream/{}"),
    ACCEPT_TRAIN: ("/train", {"model_name": "accepted", "method": "gaussian_copula", "overwrite_existing": True},
                   "task_id", "/train/status/{}"),
}


def probe(name: str, call, found: dict, errors: list, done: threading.Event, pause: float) -> None:
    session = requests.Session()
    while not done.is_set():
        start = time.perf_counter()
        resp = call(session)
        found[name].append((time.perf_counter() - start) * 1000)
        if resp.status_code >= 500 or (name == GENERATE and resp.status_code != 200):
            errors.append(f"{name}: {resp.status_code}")
        time.sleep(pause)


def accept(worker: Worker, name: str, errors: list):
    """The call of an accepting probe: POST (timed by `probe`), then a GET of the id it returned, right after."""
    path, body, field, read = ACCEPTING[name]

    def call(session: requests.Session):
        resp = session.post(f"{worker.url}{path}", json=body, timeout=60)
        if resp.status_code == 202:
            read_back = session.get(worker.url + read.format(resp.json()[field]), timeout=30)
            if read_back.status_code != 200:
                errors.append(f"{name}: GET of the returned id answered {read_back.status_code}")
        else:
            errors.append(f"{name}: {resp.status_code}")
        return resp

    return call


def measure(worker: Worker, seconds: float, samples: int, stream_id: str, accepting: bool) -> dict:
    """Probe until `seconds` passed and every probe has `samples` answers; latencies in ms (of the request only)."""
    errors: list[str] = []
    done = threading.Event()
    calls = {
        HEALTH: (lambda s: s.get(f"{worker.url}/health", timeout=30), PROBE_EVERY),
        STREAM: (lambda s: s.get(f"{worker.url}/stream/{stream_id}", timeout=30), PROBE_EVERY),
        GENERATE: (lambda s: s.post(f"{worker.url}/generate", json={"num_samples": 100}, timeout=60), 0),
    }
    if accepting:
        calls.update({name: (accept(worker, name, errors), ACCEPT_EVERY) for name in ACCEPTING})
    found: dict[str, list[float]] = {name: [] for name in calls}
    threads = [threading.Thread(target=probe, args=(name, call, found, errors, done, pause), daemon=True)
               for name, (call, pause) in calls.items()]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while time.monotonic() - started < seconds or min(len(v) for v in found.values()) < samples:
        time.sleep(0.1)
    done.set()
    for thread in threads:
        thread.join()
    return {"latencies": found, "errors": errors, "seconds": time.monotonic() - started}


def accept_in_turn(worker: Worker, samples: int) -> dict:
    """Each accepting POST `samples` times, one request at a time, on an otherwise idle worker."""
    errors: list[str] = []
    found: dict[str, list[float]] = {name: [] for name in ACCEPTING}
    calls, session = {name: accept(worker, name, errors) for name in ACCEPTING}, requests.Session()
    started = time.monotonic()
    streams = []
    for _ in range(samples):
        for name, call in calls.items():
            start = time.perf_counter()
            resp = call(session)
            found[name].append((time.perf_counter() - start) * 1000)
            if name != ACCEPT_TRAIN and resp.status_code == 202:
                streams.append(resp.json()[ACCEPTING[name][2]])
    seconds = time.monotonic() - started
    for stream_id in streams:  # left running, a restarted worker would resume them ahead of the busy phase's stream
        worker.wait_stream(stream_id, timeout=600)
    return {"latencies": found, "errors": errors, "seconds": seconds}


def busy_state(worker: Worker, task_id: str, stream_id: str) -> tuple[str, str, int]:
    """(training status, stream state, rows landed)."""
    stream = worker.get(f"/stream/{stream_id}").json()
    return worker.get(f"/train/status/{task_id}").json()["status"], stream["state"], stream["rows_landed"]


def loop_thread_cpu(worker: Worker) -> tuple[float, float, int]:
    """(seconds on a CPU, seconds runnable but waiting for a CPU, times scheduled) of the worker's main thread,
    the one running the event loop, from /proc (Linux schedstat); zeros where unavailable."""
    try:
        ran, waited, slices = map(int, Path(f"/proc/{worker.process.pid}/task/{worker.process.pid}/schedstat")
                                  .read_text().split())
    except (OSError, ValueError):
        return 0.0, 0.0, 0
    return ran / 1e9, waited / 1e9, slices


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description="API latency while busy")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300, help="answers each probe needs per phase")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rows, args.samples = 2, 20_000, 10
    with trained_pipeline("latency-bench-", TRAINING_PROCESSES="1") as (_, worker):
        worker.post("/generate", json={"num_samples": 10})  # warm the sampling process
        idle_stream = worker.post("/stream", json={"num_samples": 10, "batch_size": 10}).json()["stream_id"]
        idle = measure(worker, args.seconds, args.samples, idle_stream, accepting=False)
        idle_accepting = accept_in_turn(worker, args.samples)
        worker.stop()  # ends the trainings queued meanwhile (failed: worker stopped)
        worker.start()
        task = worker.post("/train", json={"model_name": "busy", "method": "ctgan",
                                           "epochs": 2 if args.smoke else 300}).json()["task_id"]
        stream = worker.post("/stream", json={"num_samples": args.rows, "batch_size": 5000}).json()["stream_id"]
        before = wait_for(lambda: (lambda state: state[0] == "running" and state[2] > 0 and state)(
            busy_state(worker, task, stream)), 120, "the training to run and the stream to land rows")
        cpu_before, load_before = loop_thread_cpu(worker), os.getloadavg()[0]
        busy = measure(worker, args.seconds, args.samples, stream, accepting=True)
        cpu_after, load_after = loop_thread_cpu(worker), os.getloadavg()[0]
        after = busy_state(worker, task, stream)
    confirmed = (before[0] == after[0] == "running" and before[1] == after[1] == "running"
                 and after[2] > before[2])
    print(f"\nAPI latency, ms ({'smoke' if args.smoke else 'full'} run; each phase until {args.samples} answers "
          f"per probe and at least {args.seconds:.0f} s)")
    print(f"{'request':28s} {'phase':42s} {'n':>5s} {'p50':>8s} {'p99':>8s}")
    for phase, found in (("idle", idle), ("idle: accepting POSTs one at a time", idle_accepting),
                         ("busy: CTGAN training + stream running", busy)):
        for name, values in found["latencies"].items():
            print(f"{name:28s} {phase:42s} {len(values):>5d} {percentile(values, 50):>8.1f} {percentile(values, 99):>8.1f}")
        print(f"{'errors (5xx, failed, 404)':28s} {phase:42s} {len(found['errors']):>5d}  {found['errors'][:3]}")
    print(f"busy phase: {busy['seconds']:.0f} s; training {before[0]} -> {after[0]}, stream {before[1]} -> {after[1]}, "
          f"rows landed {before[2]:,} -> {after[2]:,}: {'confirmed busy throughout' if confirmed else 'NOT busy throughout'}")
    ran, waited, slices = (b - a for a, b in zip(cpu_before, cpu_after))
    print(f"busy phase, the worker's event-loop thread: {ran:.1f} s on a CPU, {waited:.1f} s runnable but waiting "
          f"for one ({slices:,} times scheduled); machine load average (1 min) {load_before:.1f} -> {load_after:.1f} "
          f"on {os.cpu_count()} cores")
    if not confirmed and not args.smoke:
        raise SystemExit("the busy phase was not busy throughout: raise --rows or shorten --seconds")


if __name__ == "__main__":
    main()
