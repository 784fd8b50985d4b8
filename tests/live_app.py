"""The API built with create_app(), served on a real localhost port from a thread, with Kafka cut out.

For clients that are not aiohttp's test client: the CLI (its own event loop) and schemathesis (requests).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from unittest import mock

import pytest
from aiohttp import web

import agents.control as control
from models_store import ModelStore
from worker.app import app
from web import generation, training
from web.routes import create_app


class LiveApp:
    """`with LiveApp() as api:` serves create_app() at api.url until the block ends."""

    def __init__(self, web_app: web.Application | None = None):
        self.web_app = web_app or create_app(app.worker)
        self.requests: list[tuple[str, str]] = []  # (method, path) of each request served, in order
        self.web_app.middlewares.append(self._record)
        self.port: int | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="live-app", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @web.middleware
    async def _record(self, request: web.Request, handler):
        self.requests.append((request.method, request.path))
        return await handler(request)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            runner = web.AppRunner(self.web_app)
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)  # port 0: the kernel picks a free one, no race
            self._loop.run_until_complete(site.start())
            self.port = runner.addresses[0][1]
        except BaseException as exc:  # reported by __enter__
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def __enter__(self) -> "LiveApp":
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise AssertionError(f"the API did not start: {self._error!r}")
        return self

    def __exit__(self, *exc_info) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@pytest.fixture
def kafka_cut_out(monkeypatch, tmp_path):
    """Commands go to a mock (yielded); the model store is empty and private; the broker check finds a port
    that accepts connections (a stand-in: /health only dials it), so a healthy service answers 200."""
    published = mock.AsyncMock(name="publish_command")
    for module in (control, training, generation):
        monkeypatch.setattr(module, "publish_command", published)
    monkeypatch.setattr(control.control_topic, "send", mock.AsyncMock(name="control_topic.send"))
    res = app.worker
    models = tmp_path / "models"
    monkeypatch.setattr(res, "store", ModelStore(models))
    with socket.socket() as broker_stand_in:
        broker_stand_in.bind(("127.0.0.1", 0))
        broker_stand_in.listen()
        host, port = broker_stand_in.getsockname()
        monkeypatch.setattr(res, "settings", res.settings.model_copy(update={
            "kafka_bootstrap_servers": f"{host}:{port}", "models_dir": models}))
        yield published
