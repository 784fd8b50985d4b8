#!/usr/bin/env python3
"""Streaming throughput, end to end and against its parts, in one run.

  .venv/bin/python benchmarks/stream_bench.py [--rows 1000000] [--smoke]

Rows: a GaussianCopula model fitted on the bundled sample. Rows per second of:
  sample()         raw SDV sampling of the same model, in chunks, one process (what the pipeline wraps)
  aiokafka batch   raw produce of the same JSON payloads to the same broker, per-partition batches
  aiokafka naive   one message per record, each send awaited
  naive pipeline   one awaited send per record, then one INSERT per row into DuckDB (the design not taken)
  pipeline         POST /stream -> rows committed in DuckDB (sampling, Kafka, sink), polled via /stream/{id}
The ratio column divides by raw sample() rows/s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import Worker, trained_pipeline  # noqa: E402


def sample_rows_per_second(models_dir: str, rows: int, chunk: int) -> tuple[float, list]:
    from synthesis.sampling import sample_messages

    spec = {"request_id": "warm-up", "chunk_index": 0, "num_rows": 10, "model_name": "cvd", "model_version": 1,
            "generated_at": "2026-01-01T00:00:00+00:00"}
    sample_messages(spec, models_dir)  # load the model first: its load is not sampling
    start = time.perf_counter()
    messages = []
    for index in range(-(-rows // chunk)):
        spec = {"request_id": "bench", "chunk_index": index, "num_rows": min(chunk, rows - index * chunk),
                "model_name": "cvd", "model_version": 1, "generated_at": "2026-01-01T00:00:00+00:00"}
        messages += sample_messages(spec, models_dir)
    return rows / (time.perf_counter() - start), messages


async def produce_batched(bootstrap: str, topic: str, messages) -> float:
    from broker.producer import BatchProducer

    producer = BatchProducer(bootstrap)
    await producer.start()
    start = time.perf_counter()
    await producer.send_all(topic, messages)
    elapsed = time.perf_counter() - start
    await producer.stop()
    return len(messages) / elapsed


async def produce_naive(bootstrap: str, topic: str, messages) -> float:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    start = time.perf_counter()
    for key, value in messages:
        await producer.send_and_wait(topic, value, key=key)
    elapsed = time.perf_counter() - start
    await producer.stop()
    return len(messages) / elapsed


async def naive_pipeline(bootstrap: str, topic: str, messages, db: Path) -> float:
    """One awaited send per record, then a consumer inserting row by row: the design not taken."""
    import duckdb
    import orjson
    from aiokafka import AIOKafkaConsumer

    start = time.perf_counter()
    await produce_naive(bootstrap, topic, messages)
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t (record_id VARCHAR PRIMARY KEY, payload JSON)")
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    stored = 0
    while stored < len(messages):
        async for message in consumer:
            record = orjson.loads(message.value)
            con.execute("INSERT INTO t VALUES (?, ?) ON CONFLICT DO NOTHING", [record["record_id"], message.value.decode()])
            stored += 1
            if stored >= len(messages):
                break
    await consumer.stop()
    return len(messages) / (time.perf_counter() - start)


def pipeline_rows_per_second(worker: Worker, rows: int) -> tuple[float, float]:
    start = time.perf_counter()
    resp = worker.post("/stream", json={"num_samples": rows, "batch_size": 5000})
    stream_id = resp.json()["stream_id"]
    first = None
    while True:
        body = worker.get(f"/stream/{stream_id}").json()
        if first is None and (body["rows_landed"] or 0) > 0:
            first = time.perf_counter() - start
        if body["state"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.2)
    assert body["state"] == "completed" and body["rows_landed"] == rows, body
    return rows / (time.perf_counter() - start), first


def main() -> None:
    parser = argparse.ArgumentParser(description="streaming throughput benchmark")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: keeps the benchmark working in CI")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.naive_rows = 5_000, 500
    with trained_pipeline("stream-bench-") as (broker, worker):
        models_dir = worker.env["MODELS_DIR"]
        raw_rows = min(args.rows, 200_000)
        sample_rate, messages = sample_rows_per_second(models_dir, raw_rows, 5000)
        batch_rate = asyncio.run(produce_batched(broker.bootstrap, f"bench-batch-{worker.uid}", messages))
        naive_send = asyncio.run(produce_naive(broker.bootstrap, f"bench-naive-{worker.uid}",
                                               messages[: args.naive_rows]))
        naive_rate = asyncio.run(naive_pipeline(broker.bootstrap, f"bench-naive2-{worker.uid}",
                                                messages[: args.naive_rows], worker.tmp / "naive.duckdb"))
        pipe_rate, first_rows = pipeline_rows_per_second(worker, args.rows)
    rows = [
        ("sample() (raw SDV, 1 process)", raw_rows, sample_rate),
        ("aiokafka batch produce", raw_rows, batch_rate),
        ("aiokafka naive (await each send)", args.naive_rows, naive_send),
        ("naive pipeline (await each send, INSERT per row)", args.naive_rows, naive_rate),
        ("pipeline: POST /stream -> rows in DuckDB", args.rows, pipe_rate),
    ]
    print(f"\nStreaming throughput ({'smoke' if args.smoke else 'full'} run; GaussianCopula fitted on the sample)")
    print(f"{'what':52s} {'rows':>10s} {'rows/s':>10s} {'x sample()':>10s}")
    for name, n, rate in rows:
        print(f"{name:52s} {n:>10,d} {rate:>10,.0f} {rate / sample_rate:>10.2f}")
    print(f"first rows landed {first_rows:.2f}s after POST /stream")


if __name__ == "__main__":
    main()
