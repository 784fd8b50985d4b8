"""What the views find in their aiohttp application: the worker object (web.routes.install puts it there)."""

from __future__ import annotations

from aiohttp import web

from worker.state import Worker

WORKER = web.AppKey("worker", Worker)
FAUST_APP = web.AppKey("faust_app", object)  # the Faust app, when the API runs in a worker (None in tests)


def worker_of(request: web.Request) -> Worker:
    return request.app[WORKER]
