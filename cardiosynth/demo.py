"""The start-up demo of `make run`: train the default model if missing, stream a batch, say where to look.

It drives the worker through its own HTTP API, as a user would.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from worker.settings import get_settings

logger = logging.getLogger(__name__)


def say(text: str) -> None:
    logger.info("[demo] %s", text)


async def _wait_for(session: aiohttp.ClientSession, url: str, done, timeout: float, label: str) -> dict:
    deadline = time.monotonic() + timeout
    last_line = None
    while time.monotonic() < deadline:
        async with session.get(url) as resp:
            body = await resp.json() if resp.status == 200 else {}
        line = label(body) if body else None
        if line and line != last_line:
            say(line)
            last_line = line
        if body and done(body):
            return body
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{url} did not finish within {timeout:.0f}s")


async def run(app=None) -> None:
    settings = get_settings()
    base = f"http://127.0.0.1:{settings.web_port}"
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        for _ in range(600):  # the web server starts with the worker; agents need the group join
            try:
                async with session.get(f"{base}/models") as resp:
                    if resp.status == 200:
                        models = (await resp.json())["models"]
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        else:
            say("the API did not come up; see the worker log")
            return
        if not any(m["name"] == settings.default_model for m in models):
            say(f"no model {settings.default_model!r} yet: training {settings.default_method} on "
                f"{settings.default_dataset}")
            async with session.post(f"{base}/train", json={}) as resp:
                task = await resp.json()
            if resp.status != 202:
                say(f"training was refused: {task}")
                return
            bar = lambda b: f"training {b.get('status')} {'#' * int((b.get('progress') or 0) // 5):20s} " \
                            f"{b.get('progress') or 0:5.1f}% {b.get('message') or ''}"
            final = await _wait_for(session, f"{base}/train/status/{task['task_id']}",
                                    lambda b: b["status"] in ("completed", "failed"), 3600, bar)
            if final["status"] != "completed":
                say(f"training failed: {final['error']}")
                return
            say(f"model {final['result']['model_name']} v{final['result']['model_version']} trained in "
                f"{final['result']['training_time']:.1f}s")
        rows = settings.demo_rows
        async with session.post(f"{base}/stream", json={"num_samples": rows, "batch_size": settings.chunk_size}) as r:
            stream = await r.json()
        if r.status != 202:
            say(f"the demo stream was refused: {stream}")
            return
        first_rows_at = None

        def progress(b):
            nonlocal first_rows_at
            if first_rows_at is None and (b.get("rows_landed") or 0) > 0:
                first_rows_at = time.monotonic()
                say(f"first rows in the warehouse {first_rows_at - started:.1f}s after start")
            return f"stream {b.get('state')}: {b.get('rows_sent') or 0} sent, {b.get('rows_landed') or 0} landed"

        final = await _wait_for(session, f"{base}/stream/{stream['stream_id']}",
                                lambda b: b["state"] in ("completed", "failed", "cancelled"), 600, progress)
    where = settings.duckdb_file if settings.warehouse == "duckdb" else "Snowflake"
    say(f"stream {final['state']}: {final['rows_landed']} rows in {where} "
        f"({final.get('rows_per_second') or 0:.0f} rows/s)")
    say(f"API:        {base}/health  {base}/models  {base}/streams  {base}/warehouse/summary")
    if settings.warehouse == "duckdb":
        say(f"query it:   .venv/bin/python -c \"import duckdb; print(duckdb.connect('{where}', read_only=True)"
            f".sql('SELECT heart_disease, count(*) FROM {settings.warehouse_table} GROUP BY 1'))\"  "
            "(stop the worker first: DuckDB allows one writer)")
    say("serving until Ctrl-C")
