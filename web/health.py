"""Health of the service and its parts, and the warehouse summary."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any, Awaitable, Callable

from aiohttp import web

from worker.schemas import SqlRequest
from broker.embedded import port_open
from models_store import ModelStoreError
from warehouse import QueryError, WarehouseError
from agents.sink import STATS, Outage
from web.context import worker_of
from web.errors import http_error, json_response, parse_body


async def _broker(worker) -> dict:
    settings = worker.settings
    servers = [s.strip() for s in settings.bootstrap_servers.split(",") if s.strip()]

    def reachable(server: str) -> bool:
        host, _, port = server.rpartition(":")
        return port_open(host or "127.0.0.1", int(port), timeout=1.0)

    results = await asyncio.gather(*(asyncio.to_thread(reachable, s) for s in servers))
    up = any(results)
    if not up:
        worker.broker_seen_down()  # back up, it may have lost its topics: they are checked before "ok"
    # a broker back from an outage is usable once the worker has found (or re-created) its topics (agents.lost_topics)
    confirmed = worker.topics_confirmed
    status = "down" if not up else "ok" if confirmed else "degraded"
    return {"status": status, "embedded": settings.uses_embedded_broker, "reachable": sum(results),
            "servers": len(servers), "topics": "ok" if confirmed else "checking"}


class WarehouseCheck:
    """One warehouse ping at a time, its answer reused for WAREHOUSE_CHECK_SECONDS.

    Many clients polling /health at once must not queue pings on the warehouse thread ahead of the
    sink's writes, nor open a Snowflake query or the DuckDB file each. Once there is an answer, an
    older one is renewed in the background and the last one is given meanwhile: the ping waits on the
    warehouse thread behind the sink's current write (up to a few hundred ms), which /health must not.
    The sink's own failures reach /health at once (warehouse_error, the outage report).
    """

    def __init__(self):
        self._task: asyncio.Task | None = None
        self._result: dict | None = None
        self._at = float("-inf")

    async def get(self, worker, max_age: float) -> dict:
        fresh = self._result is not None and time.monotonic() - self._at < max_age
        if not fresh and self._task is None:
            self._task = asyncio.ensure_future(self._run(worker))
        if self._result is not None:
            return self._result
        return await asyncio.shield(self._task)

    async def _run(self, worker) -> dict:
        try:
            self._result = await _ping(worker)
            self._at = time.monotonic()
            return self._result
        finally:
            self._task = None


async def _ping(worker) -> dict:
    res = worker
    try:
        await asyncio.wait_for(res.warehouse(lambda w: w.ping()), timeout=5)
    except (WarehouseError, asyncio.TimeoutError, OSError) as exc:
        # writers' errors carry no secrets (SnowflakeSession.redact masks them); a busy or hung
        # warehouse thread times out here rather than holding /health
        return {"status": "down", "error": str(exc) or "no answer within 5 s"}
    return {"status": "ok"}


WAREHOUSE_CHECK = web.AppKey("warehouse_check", WarehouseCheck)


async def _warehouse(request: web.Request) -> dict:
    res = worker_of(request)
    check = request.app[WAREHOUSE_CHECK]
    part = {"kind": res.settings.warehouse, **await check.get(res, res.settings.warehouse_check_seconds)}
    if part["status"] == "ok" and res.warehouse_error:
        part.update(status="degraded", error=res.warehouse_error)  # reads work, the sink's writes fail
    # the sink's side: down_since and failed_attempts while its writes fail; last_error stays after recovery
    outage = res.sink.writer.outage if res.sink is not None else Outage()  # no sink started yet: no outage seen
    return {**part, "sink": outage.report()}


def _model_store(res) -> dict:
    default = res.settings.default_model
    try:
        res.store.check()
        models, trained = len(res.store.names()), res.store.exists(default)
    except (ModelStoreError, OSError) as exc:
        return {"status": "down", "error": str(exc)}
    return {"status": "ok", "models": models, "default_model": default, "default_model_trained": trained}


async def health(request: web.Request) -> web.Response:
    worker = worker_of(request)
    # the model store may be a bucket: its listing runs off the event loop like the other probes
    broker, warehouse, model_store = await asyncio.gather(
        _broker(worker), _warehouse(request), asyncio.to_thread(_model_store, worker))
    parts = {"broker": broker, "warehouse": warehouse, "model_store": model_store}
    down = [name for name, part in parts.items() if part["status"] == "down"]
    degraded = [name for name, part in parts.items() if part["status"] == "degraded"]
    status = "down" if down else "degraded" if degraded else "ok"
    sink = worker.sink.writer.stats if worker.sink is not None else dict.fromkeys(STATS, 0)
    return json_response({"status": status, "parts": parts, "sink": sink}, status=503 if down or degraded else 200)


class CachedReads:
    """Warehouse reads shared by the requests that ask within `max_age` seconds of an answer.

    A dashboard polling /warehouse/summary every few seconds, or ten of them, run one query per
    WAREHOUSE_READ_SECONDS; requests arriving while it runs wait for it. Failures are not kept.
    """

    def __init__(self, keep: int = 64):
        self.keep = keep
        self._answers: dict[tuple, tuple[float, Any]] = {}
        self._running: dict[tuple, asyncio.Future] = {}

    async def get(self, key: tuple, read: Callable[[], Awaitable[Any]], max_age: float) -> Any:
        answer = self._answers.get(key)
        if answer is not None and time.monotonic() - answer[0] < max_age:
            return answer[1]
        if key not in self._running:
            self._running[key] = asyncio.ensure_future(self._read(key, read))
        return await asyncio.shield(self._running[key])

    async def _read(self, key: tuple, read) -> Any:
        try:
            value = await read()
        finally:
            self._running.pop(key, None)
        self._answers[key] = (time.monotonic(), value)
        while len(self._answers) > self.keep:
            self._answers.pop(next(iter(self._answers)))
        return value


WAREHOUSE_READS = web.AppKey("warehouse_reads", CachedReads)


async def _cached_read(request: web.Request, key: tuple, fn: Callable, *args) -> Any:
    res = worker_of(request)
    try:
        return await request.app[WAREHOUSE_READS].get(key, lambda: res.warehouse_read(fn, *args),
                                                      res.settings.warehouse_read_seconds)
    except WarehouseError as exc:
        raise http_error(web.HTTPServiceUnavailable, f"warehouse unavailable: {exc}") from None


async def warehouse_summary(request: web.Request) -> web.Response:
    return json_response(await _cached_read(request, ("summary",), lambda w: w.summary()))


async def warehouse_records(request: web.Request) -> web.Response:
    """The latest records by ingestion time, optionally of one request (stream or generation)."""
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise http_error(web.HTTPBadRequest, "limit must be an integer") from None
    if not 1 <= limit <= 10_000:
        raise http_error(web.HTTPBadRequest, "limit must be between 1 and 10000")
    request_id = request.query.get("request_id")
    table = worker_of(request).writer.table
    where, params = ("WHERE request_id = ?", (request_id,)) if request_id else ("", ())
    sql = f"SELECT * FROM {table} {where} ORDER BY ingested_at DESC, record_id LIMIT {limit}"
    rows = await _cached_read(request, ("records", limit, request_id), lambda w: w.query(sql, params))
    return json_response({"records": rows, "count": len(rows)})


def _json_value(value):
    # Snowflake's NUMBER comes back as Decimal: a JSON number, as DuckDB's DOUBLE is
    return float(value) if isinstance(value, Decimal) else value


async def warehouse_sql(request: web.Request) -> web.Response:
    """Run one read-only analysis query (the original README's three-part names resolve on DuckDB too)."""
    body = await parse_body(request, SqlRequest)
    res = worker_of(request)
    try:
        columns, rows = await res.warehouse(lambda w: w.read(body.sql, body.limit))
    except QueryError as exc:
        raise http_error(web.HTTPBadRequest, f"the query failed: {exc}", field="sql") from None
    except WarehouseError as exc:
        raise http_error(web.HTTPServiceUnavailable, f"warehouse unavailable: {exc}") from None
    return json_response({"columns": columns, "rows": [[_json_value(v) for v in row] for row in rows[:body.limit]],
                          "row_count": min(len(rows), body.limit), "truncated": len(rows) > body.limit,
                          "warehouse": res.settings.warehouse})
