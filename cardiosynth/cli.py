"""`cardiosynth train|generate|stream|status|models|sql|send-command`: drive a running worker from a terminal.

Faust's custom commands (`@app.command()`), registered by cardiosynth.main next to Faust's own `worker`,
`agents`, ... (this `models` replaces Faust's listing of faust.Record models). They call the
worker's HTTP API at --url, except send-command, which produces a command to the control topic.
"""

from __future__ import annotations

import asyncio
import csv
import sys
from functools import wraps
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import click
import faust.cli.faust  # noqa: F401  # Faust's commands first, so a command here may replace one of them
import orjson
from faust.cli import AppCommand, argument, option
from faust.cli.base import cli as faust_cli
from rich.console import Console
from rich.table import Table

from worker.app import app
from cardiosynth.client import (ApiClient, ApiUnreachable, CliError, default_url, follow, one_line, produce_command,
                        read_warehouse_file, table)
from worker.settings import get_settings


class ApiCommand(AppCommand):
    """A command that runs on its own event loop (not as a Faust worker) and fails in one line."""

    abstract: ClassVar[bool] = True

    @classmethod
    def as_click_command(cls):
        @click.pass_context
        @wraps(cls)
        def command(*args: Any, **kwargs: Any) -> NoReturn:
            cls(*args, **kwargs)()

        # Named explicitly: click would make `send_command` into `send`, which is Faust's command.
        named = faust_cli.command(name=cls.__name__.replace("_", "-"), help=cls.__doc__)
        for decorate in cls.options or []:
            command = decorate(command)
        return named(command)

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        try:
            asyncio.run(self.run(*self.args, *args, **{**self.kwargs, **kwargs}))
        except CliError as exc:
            click.echo(f"Error: {one_line(str(exc))}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            sys.exit(130)
        sys.exit(0)

    def emit(self, data: Any, shown: Table | None = None) -> None:
        """Print the table, or the data as JSON with `cardiosynth --json` (or when there is no table)."""
        if self.json or shown is None:
            click.echo(orjson.dumps(data).decode())
        else:
            Console().print(shown)


URL = option("--url", default=default_url(), help="Base URL of a running worker's HTTP API.")
SHOWN = 10  # rows of each table `status` prints; --json gives them all
WAIT = option("--wait/--no-wait", default=True, help="Follow progress until done; --no-wait prints the id.")


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


@app.command(
    URL, WAIT,
    option("--overwrite", is_flag=True, help="Train a new version of a model that exists."),
    option("--epochs", type=click.IntRange(min=1), default=None, help="Epochs (CTGAN, TVAE, CopulaGAN)."),
    option("--dataset", default=None, help="CSV in the worker's data directory [default: DEFAULT_DATASET]."),
    option("--model", "model_name", default=None, help="Model name [default: DEFAULT_MODEL]."),
    option("--method", default=None, help="A method of GET /train/methods (cart, gaussian_copula, ctgan, ...) [default: DEFAULT_METHOD]."),
    base=ApiCommand,
)
async def train(self, method, model_name, dataset, epochs, overwrite, wait, url) -> None:
    """Train a model version on the worker and follow its progress."""
    body = _drop_none(method=method, model_name=model_name, dataset_path=dataset, epochs=epochs)
    async with ApiClient(url) as api:
        started = await api.call("POST", "/train", json={**body, "overwrite_existing": overwrite}, ok=(202,))
        if not wait:
            return click.echo(started["task_id"])
        task_id = started["task_id"]
        try:
            final = await follow(api, f"training {task_id[:8]}", f"/train/status/{task_id}", "status", "progress",
                                 100, "%")
        except asyncio.CancelledError:  # Ctrl-C stops following, not the training
            click.echo(f"training {task_id} goes on; see `cardiosynth status`", err=True)
            raise
    if final["status"] != "completed":
        raise CliError(f"training {final['task_id']} {final['status']}: {final.get('error')}")
    result = final["result"] or {}
    click.echo(f"trained model {result.get('model_name')!r} version {result.get('model_version')} "
               f"on {result.get('dataset_rows')} rows in {result.get('training_time') or 0:.1f}s")


@app.command(
    URL,
    option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
           help="Write to FILE instead of standard output."),
    option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", help="Output format."),
    option("--model-version", type=click.IntRange(min=1), default=None, help="Version [default: latest]."),
    option("--model", "model_name", default=None, help="Model name [default: the newest model]."),
    option("--seed", type=click.IntRange(min=0), default=None, help="Same seed, same records."),
    argument("num", type=click.IntRange(min=1)),
    base=ApiCommand,
)
async def generate(self, num, seed, model_name, model_version, fmt, output, url) -> None:
    """Generate NUM records and print them (CSV or JSON lines)."""
    body = _drop_none(num_samples=num, seed=seed, model_name=model_name, model_version=model_version)
    async with ApiClient(url) as api:
        if fmt == "csv":
            text = await api.call("POST", "/generate", json=body, accept="text/csv", ok=(200,))
        else:
            records = (await api.call("POST", "/generate", json=body, ok=(200,)))["records"]
            text = "".join(orjson.dumps(r).decode() + "\n" for r in records)
    if output is None:
        return click.echo(text, nl=False)
    try:
        output.write_text(text)
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {num} records to {output}", err=True)


@app.command(
    URL, WAIT,
    option("--seed", type=click.IntRange(min=0), default=None, help="Same seed, same records."),
    option("--model", "model_name", default=None, help="Model name [default: the newest model]."),
    option("--interval", type=click.FloatRange(0, 3600), default=0.0, help="Seconds between batches."),
    option("--batch-size", type=click.IntRange(min=1), default=1000, help="Records per batch."),
    option("--cancel-wait", type=click.FloatRange(0.1, 600), default=15.0, show_default=True,
           help="Seconds Ctrl-C waits for the API to accept the cancel before giving up."),
    argument("num", type=click.IntRange(min=1)),
    base=ApiCommand,
)
async def stream(self, num, batch_size, interval, model_name, seed, wait, url, cancel_wait) -> None:
    """Stream NUM records into the warehouse and follow them landing; Ctrl-C offers to cancel."""
    body = _drop_none(num_samples=num, batch_size=batch_size, interval_seconds=interval, model_name=model_name,
                      seed=seed)
    async with ApiClient(url) as api:
        stream_id = (await api.call("POST", "/stream", json=body, ok=(202,)))["stream_id"]
        if not wait:
            return click.echo(stream_id)
        try:
            final = await follow(api, f"stream {stream_id[:8]}", f"/stream/{stream_id}", "state", "rows_landed", num,
                                 "rows")
        except asyncio.CancelledError:  # Ctrl-C; asyncio.run raises KeyboardInterrupt once this returns
            if not sys.stdin.isatty() or click.confirm(f"\ncancel stream {stream_id}?", default=True, err=True):
                try:  # bounded: Ctrl-C must end the command even when the API does not answer
                    answer = await api.call("DELETE", f"/stream/{stream_id}", ok=(202, 409), within=cancel_wait)
                except CliError as exc:
                    raise CliError(f"stream {stream_id} may still be running, the cancel failed: {exc}; "
                                   f"try again with: cardiosynth send-command "
                                   f"'{{\"command\": \"cancel\", \"id\": \"{stream_id}\"}}'") from None
                click.echo(f"stream {stream_id}: {answer.get('state') or answer.get('error')}", err=True)
            raise
    if final["state"] != "completed":
        raise CliError(f"stream {stream_id} {final['state']}: {final.get('error')}")
    click.echo(f"stream {stream_id}: {final['rows_landed']} rows landed ({final.get('rows_per_second')} rows/s)")


@app.command(URL, base=ApiCommand)
async def status(self, url) -> None:
    """Health of the worker's parts, training tasks and streams; exits 1 unless healthy."""
    async with ApiClient(url) as api:
        health = await api.call("GET", "/health", ok=(200, 503))
        tasks = (await api.call("GET", "/train/tasks"))["tasks"]
        streams = (await api.call("GET", "/streams"))["streams"]
    if self.json:
        self.emit({"health": health, "tasks": tasks, "streams": streams})
    else:
        parts = [[name, p["status"], ", ".join(f"{k}={v}" for k, v in p.items() if k != "status")]
                 for name, p in health["parts"].items()]
        self.emit(None, table(f"health: {health['status']}", ["part", "status", "detail"], parts))
        self.emit(None, table("sink", list(health["sink"]), [list(health["sink"].values())]))
        self.emit(None, table(f"training tasks: {len(tasks)}, newest first", [
            "task", "model", "method", "status", "progress", "created"], [
            [t["task_id"], t["model_name"], t["method"], t["status"], t["progress"], t["created_at"]]
            for t in tasks[:SHOWN]]))
        self.emit(None, table(f"streams: {len(streams)}, newest first", [
            "stream", "state", "landed", "of", "rows/s", "created"], [
            [s["stream_id"], s["state"], s["rows_landed"], s["num_samples"], s["rows_per_second"], s["created_at"]]
            for s in streams[:SHOWN]]))
    if health["status"] != "ok":
        bad = [name for name, part in health["parts"].items() if part["status"] != "ok"]
        raise CliError(f"the service is {health['status']}: {', '.join(bad)}")


@app.command(URL, base=ApiCommand)
async def models(self, url) -> None:
    """The models in the worker's registry."""
    async with ApiClient(url) as api:
        found = await api.call("GET", "/models")
    rows = [[m["name"] + (" (default)" if m["name"] == found["model_when_unnamed"] else ""), m["latest_version"],
             ", ".join(map(str, m["versions"]))] for m in found["models"]]
    self.emit(found, table("models", ["model", "latest", "versions"], rows))


@app.command(argument("command"), base=ApiCommand)
async def send_command(self, command) -> None:
    """Produce COMMAND (JSON, or @FILE holding JSON) to the control topic, as any Kafka client could."""
    try:
        raw = Path(command[1:]).read_bytes() if command.startswith("@") else command.encode()
    except OSError as exc:
        raise CliError(f"cannot read {command[1:]}: {exc.strerror}") from None
    click.echo(await produce_command(raw))



@app.command(
    URL,
    option("--limit", type=click.IntRange(1, 100_000), default=10_000, show_default=True, help="Rows at most."),
    argument("query"),
    base=ApiCommand,
)
async def sql(self, query, limit, url) -> None:
    """Run one read-only SQL QUERY on the warehouse (through the worker, or on the DuckDB file when no worker
    runs): a table on a terminal, CSV when piped."""
    try:
        async with ApiClient(url) as api:
            answer = await api.call("POST", "/warehouse/sql", json={"sql": query, "limit": limit})
    except ApiUnreachable:
        if get_settings().warehouse != "duckdb":
            raise
        answer = await asyncio.to_thread(read_warehouse_file, query, limit)
    columns, rows = answer["columns"], answer["rows"]
    if self.json:
        self.emit(answer)
    elif sys.stdout.isatty():
        self.emit(answer, table(f"{answer['row_count']} rows", columns, rows))
    else:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(columns)
        out.writerows(["" if v is None else v for v in row] for row in rows)
    if answer["truncated"]:
        click.echo(f"(first {limit} rows; raise --limit for more)", err=True)
