#!/usr/bin/env python3
"""Streaming throughput, end to end and stage by stage, against raw SDV sample() measured in the same run.

  .venv/bin/python benchmarks/stream_bench.py [--rows 1000000] [--method gaussian_copula] [--smoke]

A model of --method fitted on the bundled sample (by the worker, POST /train). Rows per second of:
  raw sample()       the synthesizer's own sample(n), one process, one call per chunk, at several chunk
                     sizes: the pipeline's (CHUNK_SIZE) and the best one; the ratios divide by these
  sampling stage     what a sampling process does per chunk: seeding, sample(), records, JSON (sample_messages),
                     at the same chunk sizes
  aiokafka batch     raw produce of the same JSON payloads to the same broker, per-partition batches
  JSON parse         the sink's parse and validation of those messages (BatchWriter.prepare), sink batches
  DuckDB writer      DuckDBWriter.write of the prepared rows, sink batches, a file of its own
  pipeline only      the pre-sampled messages produced to the worker's records topic until its sink
                     has landed them all in DuckDB (no sampling): the ceiling of Kafka plus sink
  aiokafka naive     one message per record, each send awaited
  naive pipeline     one awaited send per record, then one INSERT per row into DuckDB (the design not taken)
  pipeline           POST /stream -> rows committed in DuckDB (sampling, Kafka, sink), polled via /stream/{id}
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from worker.settings import Settings  # noqa: E402
from tests.harness import Worker, trained_pipeline  # noqa: E402

CHUNK_SIZES = (1_000, 5_000, 20_000, 50_000, 100_000)
GENERATED_AT = "2026-01-01T00:00:00+00:00"


def spec(request_id: str, index: int, rows: int) -> dict:
    return {"request_id": request_id, "chunk_index": index, "num_rows": rows, "model_name": "cvd",
            "model_version": 1, "generated_at": GENERATED_AT}


def raw_sample_rates(models_dir: str, rows: int, sizes) -> dict[int, float]:
    """rows/s of the synthesizer's sample(n) alone, `rows` rows in calls of each chunk size."""
    from models_store import open_store

    synthesizer = open_store(models_dir).load("cvd", 1)
    synthesizer.sample(100)  # the first call pays lazy imports
    rates = {}
    for size in sizes:
        start = time.perf_counter()
        for index in range(-(-rows // size)):
            synthesizer.sample(min(size, rows - index * size))
        rates[size] = rows / (time.perf_counter() - start)
    return rates


def sampling_stage_rate(models_dir: str, rows: int, chunk: int, request_id: str) -> tuple[float, list]:
    """rows/s of sample_messages (per-chunk seeding, sample(), records, JSON) and the messages it made."""
    from synthesis.sampling import sample_messages

    sample_messages(spec("warm-up", 0, 10), models_dir)  # load the model first: its load is not sampling
    start = time.perf_counter()
    messages = []
    for index in range(-(-rows // chunk)):
        messages += sample_messages(spec(request_id, index, min(chunk, rows - index * chunk)), models_dir)
    return rows / (time.perf_counter() - start), messages


def parse_and_write_rates(models_dir: str, messages, batch: int) -> tuple[float, float]:
    """msgs/s of the sink's BatchWriter.prepare and rows/s of DuckDBWriter.write, in sink batches."""
    from agents.sink import BatchWriter, SinkMessage
    from models_store import open_store
    from warehouse.duckdb import DuckDBWriter

    schema = {c["name"]: c for c in open_store(models_dir).manifest("cvd", 1)["columns"]}
    parser = BatchWriter(worker=None)  # prepare() alone: it reads model_columns, set below
    parser.model_columns = lambda name, version: schema if (name, version) == ("cvd", 1) else None
    sink_messages = [SinkMessage(key, value, "bench", 0, offset) for offset, (key, value) in enumerate(messages)]
    batches = [sink_messages[i:i + batch] for i in range(0, len(sink_messages), batch)]
    with tempfile.TemporaryDirectory(prefix="stream-bench-writer-") as tmp:
        writer = DuckDBWriter(Path(tmp) / "writer.duckdb")
        writer.open()
        start = time.perf_counter()
        prepared = [parser.prepare(b, writer.columns) for b in batches]
        parse_seconds = time.perf_counter() - start
        assert all(not rejected for _, rejected in prepared), prepared[0][1][:3]
        start = time.perf_counter()
        stored = sum(writer.write(rows) for rows, _ in prepared)
        write_seconds = time.perf_counter() - start
        writer.close()
    assert stored == len(messages), f"stored {stored} of {len(messages)}"
    return len(messages) / parse_seconds, len(messages) / write_seconds


def sink_counts(worker: Worker) -> tuple[int, int]:
    """(records landed, batches written) by the worker's sink, from GET /metrics."""
    text = worker.get("/metrics").text

    def counter(name: str) -> int:
        return int(float(re.search(rf"^cardiosynth_sink_{name}(?:_total)? (\S+)$", text, re.M).group(1)))

    return counter("records_landed"), counter("batches")


def pipeline_only_rate(worker: Worker, bootstrap: str, messages) -> tuple[float, int]:
    """rows/s of pre-sampled messages produced to the worker's records topic until its sink landed them
    all, and the number of sink batches that took."""
    landed, batches = sink_counts(worker)
    start = time.perf_counter()
    asyncio.run(produce_batched(bootstrap, worker.topic("RECORDS_TOPIC"), messages))
    deadline = start + 600
    while (now := sink_counts(worker))[0] < landed + len(messages):
        assert time.perf_counter() < deadline, "the sink did not land the pre-sampled records in 600 s"
        time.sleep(0.05)
    return len(messages) / (time.perf_counter() - start), now[1] - batches


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


def pipeline_rows_per_second(worker: Worker, rows: int, chunk: int) -> tuple[float, float]:
    start = time.perf_counter()
    resp = worker.post("/stream", json={"num_samples": rows, "batch_size": chunk})
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
    defaults = Settings.model_fields
    parser = argparse.ArgumentParser(description="streaming throughput benchmark")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stage-rows", type=int, default=200_000, help="rows for raw sample() and each stage")
    parser.add_argument("--method", default="gaussian_copula", help="the synthesizer the worker trains")
    parser.add_argument("--chunk-size", type=int, default=defaults["chunk_size"].default, help="the worker's CHUNK_SIZE")
    parser.add_argument("--sink-batch-size", type=int, default=defaults["sink_batch_size"].default,
                        help="the worker's SINK_BATCH_SIZE")
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: keeps the benchmark working in CI")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.stage_rows, args.naive_rows = 5_000, 5_000, 500
    chunk, sink_batch = args.chunk_size, args.sink_batch_size
    stage_rows = min(args.rows, args.stage_rows)
    sizes = sorted({size for size in CHUNK_SIZES if size <= stage_rows} | {min(chunk, stage_rows)})
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    with trained_pipeline("stream-bench-", method=args.method, CHUNK_SIZE=str(chunk),
                          SINK_BATCH_SIZE=str(sink_batch)) as (broker, worker):
        models_dir = worker.env["MODELS_DIR"]
        raw = raw_sample_rates(models_dir, stage_rows, sizes)
        # the sampling stage at each chunk size too: what CHUNK_SIZE is chosen by
        stages = {size: sampling_stage_rate(models_dir, stage_rows, size, f"bench-{size}") for size in sizes}
        stage_rate, messages = stages[min(chunk, stage_rows)]
        batch_rate = asyncio.run(produce_batched(broker.bootstrap, f"bench-batch-{worker.uid}", messages))
        parse_rate, write_rate = parse_and_write_rates(models_dir, messages, sink_batch)
        _, only_messages = sampling_stage_rate(models_dir, stage_rows, chunk, "pipeline-only")
        only_rate, only_batches = pipeline_only_rate(worker, broker.bootstrap, only_messages)
        naive_send = asyncio.run(produce_naive(broker.bootstrap, f"bench-naive-{worker.uid}",
                                               messages[: args.naive_rows]))
        naive_rate = asyncio.run(naive_pipeline(broker.bootstrap, f"bench-naive2-{worker.uid}",
                                                messages[: args.naive_rows], worker.tmp / "naive.duckdb"))
        pipe_rate, first_rows = pipeline_rows_per_second(worker, args.rows, chunk)
    best = max(raw, key=raw.get)
    at_chunk, at_best = raw[min(chunk, stage_rows)], raw[best]
    print(f"\nStreaming throughput ({'smoke' if args.smoke else 'full'} run; {args.method} fitted on the sample; "
          f"CHUNK_SIZE {chunk:,}, sink batches of {sink_batch:,})")
    print(f"{'what':68s} {'rows':>10s} {'rows/s':>10s} {'x raw@chunk':>11s} {'x raw@best':>10s}")

    def line(name: str, n: int, rate: float) -> None:
        print(f"{name:68s} {n:>10,d} {rate:>10,.0f} {rate / at_chunk:>11.2f} {rate / at_best:>10.2f}")

    for size, rate in raw.items():
        marks = ", ".join(m for m, hit in (("pipeline's", size == min(chunk, stage_rows)), ("best", size == best)) if hit)
        line(f"raw sample(), chunks of {size:,}" + (f" ({marks})" if marks else ""), stage_rows, rate)
    for size, (rate, _) in stages.items():
        line(f"stage: sampling (seeded chunks, records, JSON), chunks of {size:,}", stage_rows, rate)
    line("stage: aiokafka batch produce", stage_rows, batch_rate)
    line("stage: JSON parse and validation (sink's prepare)", stage_rows, parse_rate)
    line("stage: DuckDB writer (sink batches)", stage_rows, write_rate)
    line("pipeline only: pre-sampled -> records topic -> DuckDB", stage_rows, only_rate)
    line("aiokafka naive (await each send)", args.naive_rows, naive_send)
    line("naive pipeline (await each send, INSERT per row)", args.naive_rows, naive_rate)
    line("pipeline: POST /stream -> rows in DuckDB", args.rows, pipe_rate)
    slowest = min((batch_rate, "aiokafka batch produce"), (parse_rate, "JSON parse"), (write_rate, "DuckDB writer"))
    print(f"pipeline only: {only_rate / slowest[0]:.2f} x its slowest stage ({slowest[1]}, {slowest[0]:,.0f} rows/s); "
          f"the sink wrote {only_batches} batches, {stage_rows / max(only_batches, 1):,.0f} records each on average")
    print(f"pipeline: {pipe_rate / at_chunk:.2f} x raw sample() at the pipeline's chunk size, "
          f"{pipe_rate / at_best:.2f} x at the best ({best:,}); target >= 0.6")
    print(f"first rows landed {first_rows:.2f}s after POST /stream")


if __name__ == "__main__":
    main()
