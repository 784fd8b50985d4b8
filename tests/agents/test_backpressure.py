"""Backpressure (README, MAX_CHUNKS_AHEAD): a stream schedules at most that many chunks beyond those sent.

pace() is driven without a broker: the generation topic and the status updates are replaced by
recorders, and the test plays the sampler by raising chunks_sent.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import agents.generation as generation
from agents.generation import pace, plan
from tests.harness import eventually


async def test_a_stream_schedules_at_most_max_chunks_ahead_of_those_sent(monkeypatch):
    ahead = 8
    status = {"state": "running", "chunks_sent": 0}
    scheduled: list[int] = []
    looks = [0]  # how often pace() read the status: it keeps reading while it waits

    def current(stream_id):
        looks[0] += 1
        return dict(status)

    async def send(key, value):
        scheduled.append(value.chunk_index)
        delivered = asyncio.get_running_loop().create_future()  # what the producer answers once the broker has it
        delivered.set_result(None)
        return delivered

    async def publish(table, key, changes=None, increments=None):
        status.update({k: v for k, v in (changes or {}).items() if k != "chunks_sent"})

    settings = SimpleNamespace(max_chunks_ahead=ahead, backpressure_max_wait=3600.0, heartbeat_seconds=3600.0)
    monkeypatch.setattr(generation.app, "worker", SimpleNamespace(settings=settings, pacers={}))
    monkeypatch.setattr(generation, "_current", current)
    monkeypatch.setattr(generation.generation_topic, "send", send)
    monkeypatch.setattr(generation, "publish_status", publish)
    entry = {"stream_id": "s-1", "model_name": "cvd", "model_version": 1, "seed": None, "num_samples": 100_000,
             **plan(100_000, 1000, 0.0, 1000)}  # 100 chunks, no pause between them
    task = asyncio.ensure_future(pace(entry))
    try:
        for sent in (0, 3, 50):
            status["chunks_sent"] = sent
            await eventually(lambda: len(scheduled) == sent + ahead, f"{sent + ahead} chunks scheduled", timeout=10)
            waiting_since = looks[0]
            await eventually(lambda: looks[0] >= waiting_since + 5, "pace() to wait on the sent chunks", timeout=10)
            assert scheduled == list(range(sent + ahead)), f"{len(scheduled)} scheduled with {sent} sent"
        status["state"] = "cancelled"
        await asyncio.wait_for(task, timeout=10)  # a stream that ended stops waiting
        assert len(scheduled) == 58
    finally:
        task.cancel()
