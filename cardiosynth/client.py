"""What the `cardiosynth` commands (cli.py) talk to, the worker's HTTP API and the control topic, and how
they show what comes back: progress bars with rate and ETA, tables."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from worker.schemas import CommandError, parse_command
from broker.security import client_options
from worker.settings import get_settings

TERMINAL_STATES = {"completed", "failed", "cancelled"}
POLL_SECONDS = 0.5


class CliError(Exception):
    """A failure the command reports in one line on standard error, exiting 1."""


class ApiUnreachable(CliError):
    """Nothing answers at --url: no worker runs there."""


def one_line(text: str) -> str:
    return " ".join(text.split())


def default_url() -> str:
    """This machine's worker, from WEB_HOST and WEB_PORT."""
    settings = get_settings()
    host = "127.0.0.1" if settings.web_host in ("0.0.0.0", "::", "") else settings.web_host
    return f"http://{host}:{settings.web_port}"


class ApiClient:
    """The worker's HTTP API; every failure becomes a CliError that says what to do."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        token = get_settings().api_token
        self.headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "ApiClient":
        # No total timeout: a large inline generation takes a while; connecting must not.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=600)
        self.session = aiohttp.ClientSession(timeout=timeout, headers=self.headers)
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.session.close()

    async def call(self, method: str, path: str, json: Any = None, accept: str = "application/json",
                   ok: tuple[int, ...] = (200,), within: float | None = None) -> Any:
        """The answer's body (parsed when JSON); a status outside `ok` raises with the API's message.
        `within`: seconds the whole call may take (None: no limit beyond the session's)."""
        limit = {"timeout": aiohttp.ClientTimeout(total=within, sock_connect=5)} if within is not None else {}
        try:
            async with self.session.request(method, self.url + path, json=json, headers={"Accept": accept},
                                            **limit) as resp:
                body, content_type, status = await resp.read(), resp.content_type, resp.status
        except aiohttp.InvalidURL:
            raise CliError(f"invalid --url {self.url!r}: expected http://HOST:PORT") from None
        except aiohttp.ClientConnectorError:
            raise ApiUnreachable(f"cannot reach the cardiosynth API at {self.url}: is `cardiosynth worker` running?"
                                 ) from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise CliError(f"{method} {self.url}{path} failed: {exc or type(exc).__name__}") from None
        data = orjson.loads(body) if content_type == "application/json" else body.decode(errors="replace")
        if status not in ok:
            message = data.get("error") if isinstance(data, dict) else data
            raise CliError(f"{message} (HTTP {status} from {method} {path})")
        return data


class RateColumn(ProgressColumn):
    """Units per second, from rich's speed estimate."""

    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = f"{task.speed:,.1f}" if task.speed else "-"
        return Text(f"{speed} {self.unit}/s", style="progress.data.speed")


async def follow(api: ApiClient, label: str, path: str, state_key: str, done_key: str, total: int, unit: str) -> dict:
    """Poll `path` until its state is terminal, showing done/total with rate and ETA on standard error."""
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), RateColumn(unit),
               TimeRemainingColumn(), TextColumn("{task.fields[state]}"))
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total, state="pending")
        while True:
            entry = await api.call("GET", path)
            bar.update(task, completed=entry.get(done_key) or 0, state=entry.get(state_key))
            if entry.get(state_key) in TERMINAL_STATES:
                return entry
            await asyncio.sleep(POLL_SECONDS)


def read_warehouse_file(sql: str, limit: int) -> dict[str, Any]:
    """A read-only query on the DuckDB file itself, as POST /warehouse/sql answers it (when no worker runs)."""
    from pydantic import ValidationError

    from worker.schemas import SqlRequest
    from warehouse import QueryError, WarehouseError, create_writer

    try:
        request = SqlRequest(sql=sql, limit=limit)
    except ValidationError as exc:
        raise CliError("; ".join(e["msg"] for e in exc.errors())) from None
    writer = create_writer(get_settings())
    try:
        columns, rows = writer.read(request.sql, limit)
    except QueryError as exc:
        raise CliError(f"the query failed: {exc}") from None
    except WarehouseError as exc:
        raise CliError(f"cannot open the warehouse: {exc}") from None
    finally:
        writer.close()
    return {"columns": columns, "rows": [list(r) for r in rows[:limit]], "row_count": min(len(rows), limit),
            "truncated": len(rows) > limit, "warehouse": "duckdb"}


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column)
    for row in rows:
        shown.add_row(*("" if v is None else str(v) for v in row))
    return shown


async def produce_command(raw: bytes) -> str:
    """Check a control message as the control agent would, then produce it unchanged; says where it went."""
    try:
        command = parse_command(raw, fallback_id="(derived from the offset)")
    except CommandError as exc:
        raise CliError(f"not a valid command: {exc}") from None
    settings = get_settings()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # its connection errors are reported below, once
    key = orjson.loads(raw).get("id")
    try:
        security = client_options(settings)
    except ValueError as exc:  # SASL without credentials, say
        raise CliError(str(exc)) from None
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=10_000, **security)
    try:
        await producer.start()
        sent = await producer.send_and_wait(get_settings().control_topic, raw, key=key.encode() if key else None)
    except KafkaError as exc:
        raise CliError(f"cannot send to Kafka at {settings.bootstrap_servers}: {exc}") from None
    finally:
        await producer.stop()
    return f"sent {command.command} {command.id} to {sent.topic} partition {sent.partition} offset {sent.offset}"
