"""Generation views: records inline or to Kafka, and streams."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timezone

from aiohttp import web

from worker.schemas import CancelCommand, GenerateCommand, GenerateRequest, StreamCommand, StreamRequest
from agents.control import publish_command
from agents.status import TERMINAL, all_landed
from models_store import ModelStoreError
from synthesis.conditions import ConditionError, validate_conditions
from synthesis.sampling import sample_chunk
from web.accepting import ACCEPTED, stream_entry
from web.context import worker_of
from web.errors import http_error, json_response, parse_body
from web.models import requested_model


def _model_version(res, name: str | None, version: int | None, conditions: dict | None = None) -> tuple[str, int]:
    """The model and version a request names (404 when missing); its conditions must fit the model (422)."""
    name = requested_model(res, name)
    try:
        version = res.store.resolve(name, version)
        columns = res.store.manifest(name, version)["columns"]
    except ModelStoreError as exc:
        raise http_error(web.HTTPNotFound, f"{exc}; train it with POST /train first") from None
    try:
        validate_conditions(columns, conditions)
    except ConditionError as exc:
        raise http_error(web.HTTPUnprocessableEntity, str(exc), detail=[
            {"field": "conditions", "message": str(exc), "type": "value_error"}]) from None
    return name, version


async def generate(request: web.Request) -> web.Response:
    body = await parse_body(request, GenerateRequest)
    res = worker_of(request)
    name, version = _model_version(res, body.model_name, body.model_version, body.conditions)
    if body.send_to_kafka:
        command = GenerateCommand(command="generate", num_samples=body.num_samples, model_name=name,
                                  model_version=version, seed=body.seed, conditions=body.conditions)
        await publish_command(command)
        request.app[ACCEPTED].add("stream", command.id, stream_entry(command, res.settings.chunk_size))
        return json_response({"request_id": command.id, "num_samples": body.num_samples,
                              "topic": res.settings.records_topic,
                              "status_url": f"/stream/{command.id}"}, status=202)
    request_id = str(uuid.uuid4())
    generated_at = datetime.now(timezone.utc).isoformat()
    records = []
    size = res.settings.chunk_size
    for index in range(0, -(-body.num_samples // size)):
        chunk = {"request_id": request_id, "chunk_index": index,
                 "num_rows": min(size, body.num_samples - index * size), "model_name": name,
                 "model_version": version, "generated_at": generated_at, "seed": body.seed,
                 "conditions": body.conditions}
        try:
            records += await res.sample(sample_chunk, chunk, str(res.settings.models_dir))
        except ModelStoreError as exc:
            raise http_error(web.HTTPConflict, str(exc)) from None
        except ConditionError as exc:
            raise http_error(web.HTTPUnprocessableEntity, str(exc), detail=[
                {"field": "conditions", "message": str(exc), "type": "unreachable"}]) from None
    if "text/csv" in request.headers.get("Accept", ""):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
        return web.Response(text=out.getvalue(), content_type="text/csv")
    return json_response({"request_id": request_id, "model_name": name, "model_version": version,
                          "num_samples": len(records), "records": records})


async def start_stream(request: web.Request) -> web.Response:
    body = await parse_body(request, StreamRequest)
    res = worker_of(request)
    name, version = _model_version(res, body.model_name, body.model_version, body.conditions)
    command = StreamCommand(command="stream", **(body.model_dump() | {"model_name": name, "model_version": version}))
    await publish_command(command)
    request.app[ACCEPTED].add("stream", command.id, stream_entry(command, res.settings.chunk_size))
    return json_response({"stream_id": command.id, "status_url": f"/stream/{command.id}"}, status=202)


def stream_view(entry: dict) -> dict:
    """A stream as the status view holds it: rows landed (from the sink's reports), rows/s and its state."""
    view = {k: entry.get(k) for k in (
        "stream_id", "kind", "state", "num_samples", "batch_size", "interval_seconds", "model_name", "conditions",
        "model_version", "rows_sent", "chunks_sent", "chunks_total", "created_at", "completed_at", "error")}
    view["rows_landed"] = landed = entry.get("rows_landed", 0)
    view["rows_rejected"] = entry.get("rows_rejected", 0)
    last = entry.get("last_landed_at")
    elapsed = (datetime.fromisoformat(last) - datetime.fromisoformat(entry["created_at"])).total_seconds() \
        if last else 0
    view["rows_per_second"] = round(landed / elapsed, 1) if elapsed > 0 else None
    return view


def _is_stream(entry: dict | None) -> bool:
    # a cancel or chunk failure for an id that never started leaves an entry with only those fields
    return bool(entry) and "stream_id" in entry and "created_at" in entry


def _entry(request: web.Request, stream_id: str) -> dict:
    entry = request.app[ACCEPTED].get("stream", stream_id)
    if not _is_stream(entry):
        raise http_error(web.HTTPNotFound, f"stream {stream_id!r} not found")
    return entry


async def stream_status(request: web.Request) -> web.Response:
    return json_response(stream_view(_entry(request, request.match_info["stream_id"])))


async def cancel_stream(request: web.Request) -> web.Response:
    entry = _entry(request, request.match_info["stream_id"])
    if entry.get("state") in TERMINAL:
        raise http_error(web.HTTPConflict, f"stream {entry['stream_id']!r} is already {entry['state']}")
    if all_landed(entry):
        raise http_error(web.HTTPConflict, f"stream {entry['stream_id']!r} has landed all its rows; it is completing")
    await publish_command(CancelCommand(command="cancel", id=entry["stream_id"]))
    return json_response({"stream_id": entry["stream_id"], "state": "cancelling"}, status=202)


async def stream_list(request: web.Request) -> web.Response:
    entries = sorted((v for v in request.app[ACCEPTED].entries("stream") if _is_stream(v)),
                     key=lambda e: e.get("created_at") or "", reverse=True)
    views = [stream_view(e) for e in entries[:200]]
    return json_response({"streams": views, "total_count": len(entries)})
