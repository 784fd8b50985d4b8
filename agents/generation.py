"""Generation: streams are planned as chunks on the generation topic; any worker samples any chunk."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from agents.commands import handles
from agents.records import GenerationChunk
from agents.status import TERMINAL, all_landed, now, publish_status, streams
from agents.status import ready as status_ready
from agents.status import entry as status_entry
from agents.topics import generation_topic, records_topic
from models_store import ModelStoreError
from synthesis.conditions import ConditionError, validate_conditions
from synthesis.sampling import sample_messages
from worker.app import app
from worker.schemas import GenerateCommand, StreamCommand

logger = logging.getLogger(__name__)


def plan(num_samples: int, batch_size: int, interval_seconds: float, chunk_size: int) -> dict[str, int]:
    """Rows per chunk, chunks per tick of the interval, and the number of chunks."""
    rows_per_chunk = min(batch_size, chunk_size) if interval_seconds > 0 else chunk_size
    return {
        "rows_per_chunk": rows_per_chunk,
        "chunks_per_tick": math.ceil(batch_size / rows_per_chunk) if interval_seconds > 0 else 0,
        "chunks_total": math.ceil(num_samples / rows_per_chunk),
    }


@handles("stream")
@handles("generate")
async def start_stream(command: StreamCommand | GenerateCommand) -> None:
    if streams.get(command.id) is not None or command.id in app.worker.pacers:
        logger.info("stream %s already known; duplicate command ignored", command.id)
        return
    res = app.worker
    batch_size = getattr(command, "batch_size", res.settings.chunk_size)
    interval = getattr(command, "interval_seconds", 0.0)
    model_name = command.model_name or res.settings.default_model
    entry: dict[str, Any] = {
        "stream_id": command.id, "kind": command.command, "state": "running", "num_samples": command.num_samples,
        "batch_size": batch_size, "interval_seconds": interval, "model_name": model_name, "seed": command.seed,
        "conditions": command.conditions,
        "created_at": now(), "completed_at": None, "error": None,
        "chunks_scheduled": 0, "chunks_sent": 0, "rows_sent": 0,
        **plan(command.num_samples, batch_size, interval, res.settings.chunk_size),
    }
    try:
        entry["model_version"] = res.store.resolve(model_name, command.model_version)
        validate_conditions(res.store.manifest(model_name, entry["model_version"])["columns"], command.conditions)
    except (ModelStoreError, ConditionError) as exc:
        await publish_status("stream", command.id, changes=entry | {"state": "failed", "error": str(exc)})
        return
    await publish_status("stream", command.id, changes=entry | {"heartbeat_at": now()})
    resume(entry)


def resume(entry: dict[str, Any]) -> None:
    """Pace a stream on this worker, from the chunks it already scheduled."""
    app.worker.pacers[entry["stream_id"]] = asyncio.ensure_future(pace(entry))


def stop_pacing() -> list[str]:
    """Stop scheduling chunks here (the worker stops): another worker resumes each stream once its heartbeat is stale."""
    stopped = list(app.worker.pacers)
    for pacer in list(app.worker.pacers.values()):
        pacer.cancel()
    return stopped


class UnknownStream(LookupError):
    """A command names a stream this pipeline never started."""


@handles("cancel")
async def cancel_stream(command) -> None:
    entry = streams.get(command.id)
    # a stream started here may not be folded yet (its cancel can follow POST /stream at once): its pacer is
    if entry is None and command.id not in app.worker.pacers:
        raise UnknownStream(f"no stream {command.id!r} to cancel")  # dead-lettered with this reason
    entry = entry or {}
    if entry.get("state") in TERMINAL or all_landed(entry):
        logger.info("stream %s already %s; cancel ignored", command.id, entry.get("state"))
        return  # every row landed: its owner marks it completed
    await publish_status("stream", command.id, changes={"state": "cancelled", "completed_at": now()})
    pacer = app.worker.pacers.pop(command.id, None)
    if pacer is not None:
        pacer.cancel()


def streams_in_flight() -> set[str]:
    """The streams not finished, nor with every row landed."""
    return {entry["stream_id"] for entry in streams.values()
            if "stream_id" in entry and "num_samples" in entry and entry.get("state") not in TERMINAL
            and not all_landed(entry)}


async def fail_streams_in_flight(reason: str, only: set[str] | None = None) -> list[str]:
    """Mark failed every stream in flight (of `only`, if given): its chunks on the broker are gone."""
    failed = []
    for stream_id in streams_in_flight() if only is None else streams_in_flight() & only:
        entry = streams.get(stream_id)
        pacer = app.worker.pacers.pop(stream_id, None)
        if pacer is not None:
            pacer.cancel()
        await publish_status("stream", stream_id, changes={
            "state": "failed", "completed_at": now(),
            "error": f"{reason}; {entry.get('rows_landed', 0)} of {entry['num_samples']} rows had landed: "
                     "start the stream again"},
            confirm=True)
        failed.append(stream_id)
    return failed


def _current(stream_id: str) -> dict[str, Any]:
    return status_entry("stream", stream_id) or {}


async def _pause(stream_id: str, seconds: float, heartbeat: float) -> None:
    """Sleep between ticks, still confirming the stream is alive on long intervals."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(left, heartbeat))
        if left > heartbeat:
            await publish_status("stream", stream_id, changes={"heartbeat_at": now()})


async def pace(entry: dict[str, Any]) -> None:
    """Schedule a stream's chunks: batch_size rows per interval, never far ahead of what was sent."""
    stream_id = entry["stream_id"]
    settings = app.worker.settings
    try:
        start = _current(stream_id).get("chunks_scheduled", 0)
        beat = time.monotonic()
        for index in range(start, entry["chunks_total"]):
            # backpressure: sampling and sending must keep up before more is scheduled
            waited = time.monotonic()
            while index - _current(stream_id).get("chunks_sent", 0) >= settings.max_chunks_ahead:
                if _current(stream_id).get("state") in TERMINAL:
                    return
                if time.monotonic() - waited > settings.backpressure_max_wait:
                    # the sent counter is a status figure that can lag behind (see README, scaling
                    # out): never let it stall a stream; go on at one chunk per wait
                    logger.info("stream %s: no progress reported for %.0fs; scheduling on", stream_id,
                                settings.backpressure_max_wait)
                    break
                if time.monotonic() - beat > settings.heartbeat_seconds:
                    await publish_status("stream", stream_id, changes={"heartbeat_at": now()})
                    beat = time.monotonic()
                await asyncio.sleep(0.05)
            if _current(stream_id).get("state") in TERMINAL:
                return
            rows = min(entry["rows_per_chunk"], entry["num_samples"] - index * entry["rows_per_chunk"])
            chunk = GenerationChunk(
                request_id=stream_id, chunk_index=index, num_rows=rows, model_name=entry["model_name"],
                model_version=entry["model_version"], generated_at=now(), seed=entry["seed"],
                conditions=entry.get("conditions"),
            )
            await generation_topic.send(key=f"{stream_id}:{index}", value=chunk)
            await publish_status("stream", stream_id, changes={"chunks_scheduled": index + 1, "heartbeat_at": now()})
            beat = time.monotonic()
            ticks = entry["chunks_per_tick"]
            if ticks and (index + 1) % ticks == 0:
                await _pause(stream_id, entry["interval_seconds"], settings.heartbeat_seconds)
        await finish(stream_id, entry["num_samples"], settings.heartbeat_seconds)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        logger.exception("stream %s stopped", stream_id)
        await publish_status("stream", stream_id, changes={"state": "failed", "error": str(exc), "completed_at": now()})
    finally:
        app.worker.pacers.pop(stream_id, None)


async def finish(stream_id: str, num_samples: int, heartbeat: float) -> None:
    """Once every chunk is scheduled: wait until each row landed or was rejected, then publish the end.

    The sink's landed counts reach this worker's status view (agents.status.apply_landing); `completed_at`
    is when the last rows landed. Rows the sink dead-lettered end the stream failed, naming how many.
    """
    beat = time.monotonic()
    while True:
        current = _current(stream_id)
        if current.get("state") in TERMINAL:
            return
        landed, rejected = current.get("rows_landed", 0), current.get("rows_rejected", 0)
        if landed + rejected >= num_samples:
            break
        if time.monotonic() - beat > heartbeat:
            await publish_status("stream", stream_id, changes={"heartbeat_at": now()})
            beat = time.monotonic()
        await asyncio.sleep(0.05)
    end = {"completed_at": current.get("last_landed_at") or now()}
    if rejected:
        end.update(state="failed", error=f"{rejected} of {num_samples} rows were rejected by the sink "
                                         f"(their reasons are on the dead-letter topic); {landed} landed")
    else:
        end["state"] = "completed"
    await publish_status("stream", stream_id, changes=end, confirm=True)


@app.agent(generation_topic)
async def generate_records(stream):
    # Chunks are acknowledged by hand, once handled: Faust acknowledges an event when its agent is
    # cancelled, and a chunk cut short by the worker's stop would then be committed without its records.
    # Left unacknowledged, it is sampled again by the next worker (its records land once).
    await status_ready()  # a chunk of an unknown stream would not be counted
    async for event in stream.noack().events():
        if await generate_chunk(event.value):
            await stream.ack(event)


async def generate_chunk(chunk: GenerationChunk) -> bool:
    """Sample a chunk and send its records; False when the worker's stop cut it short."""
    res = app.worker
    if _current(chunk.request_id).get("state") in ("cancelled", "failed"):
        return True
    try:
        messages = await res.sample(sample_messages, chunk.asdict(), str(res.settings.models_dir))
        # the chunk counts as done only once Kafka has every record of it
        await res.records_producer.send_all(records_topic.get_topic_name(), messages)
    except Exception as exc:
        if app.should_stop:  # the pool or the producer was stopped under it: not the stream's failure
            logger.info("chunk %s of %s left to the next worker (stopping)", chunk.chunk_index, chunk.request_id)
            return False
        logger.exception("chunk %s of %s failed", chunk.chunk_index, chunk.request_id)
        if streams.get(chunk.request_id) is None:
            return True  # a chunk nobody planned (produced by hand): nothing to mark failed
        await publish_status("stream", chunk.request_id, changes={
            "state": "failed", "error": f"chunk {chunk.chunk_index}: {type(exc).__name__}: {exc}",
            "completed_at": now()})
        return True
    if streams.get(chunk.request_id) is not None:
        await publish_status("stream", chunk.request_id, increments={"chunks_sent": 1, "rows_sent": len(messages)})
    return True
