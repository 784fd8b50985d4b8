"""GET /metrics: scraped through aiohttp_client and parsed as Prometheus text."""

from __future__ import annotations


import pytest
from aiokafka import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

import agents.status as status
from agents.record_sink import RecordSink
from agents.sink import BatchWriter
from web.routes import create_app
from worker.app import app

EXPECTED = {
    "cardiosynth_records_requested": "counter",
    "cardiosynth_records_generated": "counter",
    "cardiosynth_training_tasks": "gauge",
    "cardiosynth_streams": "gauge",
    "cardiosynth_sink_records_landed": "counter",
    "cardiosynth_sink_records_duplicate": "counter",
    "cardiosynth_sink_records_dead_lettered": "counter",
    "cardiosynth_sink_batches": "counter",
    "cardiosynth_sink_batch_write_seconds": "histogram",
    "cardiosynth_sink_consumer_lag": "gauge",
}


class AssignedConsumer:
    """The part of AIOKafkaConsumer the lag reads: two partitions, one not fetched yet."""

    def assignment(self):
        return {TopicPartition("records-t", 0), TopicPartition("records-t", 1)}

    def highwater(self, tp):
        return {0: 10, 1: None}[tp.partition]

    async def position(self, tp):
        return 7


@pytest.fixture
def sink(monkeypatch):
    record_sink = RecordSink()
    record_sink.consumer = AssignedConsumer()
    record_sink.writer = BatchWriter(app.worker)
    monkeypatch.setattr(app.worker, "sink", record_sink)  # as the started sink registers itself
    return record_sink


@pytest.fixture
async def client(aiohttp_client, sink):
    return await aiohttp_client(create_app(app.worker))


async def scrape(client) -> dict:
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {family.name: family for family in text_string_to_metric_families(await resp.text())}


def value(families, name: str, sample: str | None = None, **labels) -> float:
    matches = [s.value for s in families[name].samples
               if s.name == (sample or name) and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matches) == 1, (name, sample, labels, families[name].samples)
    return matches[0]


async def test_every_metric_is_there_with_its_type(client):
    families = await scrape(client)
    for name, kind in EXPECTED.items():
        assert name in families, f"{name} missing from /metrics"
        assert families[name].type == kind, (name, families[name].type)
        assert families[name].documentation, name


async def test_records_and_states_come_from_the_status_tables(client, tables):
    before = await scrape(client)
    tables(status.streams, "s-1", {"stream_id": "s-1", "state": "running", "num_samples": 500, "rows_sent": 300,
                                   "created_at": "2025-01-01T00:00:00+00:00"})
    tables(status.streams, "s-2", {"stream_id": "s-2", "state": "completed", "num_samples": 100, "rows_sent": 100,
                                   "created_at": "2025-01-01T00:00:00+00:00"})
    tables(status.streams, "ghost", {"state": "cancelled"})  # a cancel for an id no stream had: not a stream
    tables(status.training_tasks, "t-1", {"task_id": "t-1", "status": "failed"})
    tables(status.training_tasks, "t-2", {"task_id": "t-2", "status": "running"})
    after = await scrape(client)

    def delta(name, sample=None, **labels):
        return value(after, name, sample, **labels) - value(before, name, sample, **labels)

    assert delta("cardiosynth_records_requested", "cardiosynth_records_requested_total") == 600
    assert delta("cardiosynth_records_generated", "cardiosynth_records_generated_total") == 400
    assert delta("cardiosynth_streams", state="running") == 1
    assert delta("cardiosynth_streams", state="completed") == 1
    assert delta("cardiosynth_streams", state="cancelled") == 0
    assert delta("cardiosynth_training_tasks", state="failed") == 1
    assert delta("cardiosynth_training_tasks", state="running") == 1
    assert delta("cardiosynth_training_tasks", state="completed") == 0


async def test_sink_counters_and_batch_latency_follow_the_writer(client, sink):
    writer = sink.writer
    before = await scrape(client)
    await writer.write([])  # an empty batch still is a timed write
    after = await scrape(client)
    histogram = "cardiosynth_sink_batch_write_seconds"
    assert value(after, histogram, f"{histogram}_count") == value(before, histogram, f"{histogram}_count") + 1
    assert value(after, histogram, f"{histogram}_bucket", le="+Inf") == value(after, histogram, f"{histogram}_count")
    assert value(after, histogram, f"{histogram}_sum") >= value(before, histogram, f"{histogram}_sum")
    batches = "cardiosynth_sink_batches"
    assert value(after, batches, f"{batches}_total") == writer.stats["batches"]
    landed = "cardiosynth_sink_records_landed"
    assert value(after, landed, f"{landed}_total") == writer.stats["landed"]


async def test_consumer_lag_per_assigned_partition(client):
    families = await scrape(client)
    samples = families["cardiosynth_sink_consumer_lag"].samples
    # partition 1 has no fetch answered yet, so no highwater: it has no sample rather than a made-up one
    assert [(s.labels, s.value) for s in samples] == [({"topic": "records-t", "partition": "0"}, 3.0)]


async def test_a_worker_without_a_running_sink_reports_no_lag(aiohttp_client):
    client = await aiohttp_client(create_app(app.worker))
    families = await scrape(client)
    assert families["cardiosynth_sink_consumer_lag"].samples == []
    assert set(EXPECTED) <= set(families)
