"""GET /metrics: the pipeline's counters in the Prometheus text format, read fresh at each scrape.

Two scopes: `cardiosynth_records_*` from the streams table and the `cardiosynth_training_tasks` /
`cardiosynth_streams` gauges are cluster-wide (the tables are global: every worker reports the
same value, aggregate them with max()); the `cardiosynth_sink_*` metrics are this worker's own
(sum() them over workers).
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agents.sink import STATS, write_seconds_histogram
from web.context import worker_of

TRAINING_STATES = ("pending", "running", "completed", "failed")
STREAM_STATES = ("pending", "running", "completed", "failed", "cancelled")


class Snapshot:
    """Metric families taken at one scrape, in the shape generate_latest() reads (a collector)."""

    def __init__(self, families: Iterable[Metric]):
        self.families = list(families)

    def collect(self) -> list[Metric]:
        return self.families


def _entries(worker, table: str) -> list[dict]:
    return [entry for entry in worker.status.entries(table) if isinstance(entry, dict)]


def record_families(worker) -> list[Metric]:
    """Records asked for and generated, over every stream and Kafka generation request."""
    entries = [e for e in _entries(worker, "stream") if "stream_id" in e]
    requested = CounterMetricFamily(
        "cardiosynth_records_requested", "Records asked for by streams and Kafka generation requests, all workers.")
    requested.add_metric([], sum(e.get("num_samples") or 0 for e in entries))
    generated = CounterMetricFamily(
        "cardiosynth_records_generated",
        "Records generated and sent to the records topic, all workers (rows_sent of the streams table).")
    generated.add_metric([], sum(e.get("rows_sent") or 0 for e in entries))
    landed = CounterMetricFamily(
        "cardiosynth_records_landed",
        "Records of streams and Kafka generation requests stored in the warehouse, all workers (the sinks' reports).")
    landed.add_metric([], sum(e.get("rows_landed") or 0 for e in entries))
    return [requested, generated, landed]


def state_families(worker) -> list[Metric]:
    """Training tasks and streams by state."""
    families = []
    for name, help_text, entries, key, states in (
        ("cardiosynth_training_tasks", "Training tasks by status, all workers.", _entries(worker, "training"),
         "status", TRAINING_STATES),
        ("cardiosynth_streams", "Streams and Kafka generation requests by state, all workers.",
         [e for e in _entries(worker, "stream") if "stream_id" in e], "state", STREAM_STATES),
    ):
        counts = Counter(e.get(key) or "pending" for e in entries)
        family = GaugeMetricFamily(name, help_text, labels=["state"])
        for state in dict.fromkeys((*states, *counts)):  # every known state, even at zero: stable series
            family.add_metric([state], counts.get(state, 0))
        families.append(family)
    return families


def sink_families(sink, lags: dict) -> list[Metric]:
    """This worker's sink: records landed, duplicates, dead-lettered, batches, write latency and lag."""
    stats = sink.writer.stats if sink is not None else dict.fromkeys(STATS, 0)
    families = []
    for name, key, help_text in (
        ("cardiosynth_sink_records_landed", "landed", "Records this worker's sink stored in the warehouse."),
        ("cardiosynth_sink_records_duplicate", "duplicates", "Records skipped as already stored (redeliveries)."),
        ("cardiosynth_sink_records_dead_lettered", "dead_lettered", "Invalid records sent to the dead-letter topic."),
        ("cardiosynth_sink_batches", "batches", "Batches this worker's sink wrote."),
    ):
        family = CounterMetricFamily(name, help_text)
        family.add_metric([], stats.get(key, 0))
        families.append(family)
    families += (sink.writer.write_seconds if sink is not None else write_seconds_histogram()).collect()
    lag = GaugeMetricFamily("cardiosynth_sink_consumer_lag",
                            "Records on the broker this worker's sink has not fetched yet, per assigned partition.",
                            labels=["topic", "partition"])
    for tp, value in sorted(lags.items()):
        lag.add_metric([tp.topic, str(tp.partition)], value)
    return [*families, lag]


async def metrics(request: web.Request) -> web.Response:
    """Pipeline metrics in the Prometheus text format."""
    worker = worker_of(request)
    sink = worker.sink
    lags = await sink.lag() if sink is not None else {}
    snapshot = Snapshot([*record_families(worker), *state_families(worker), *sink_families(sink, lags)])
    return web.Response(body=generate_latest(snapshot), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
