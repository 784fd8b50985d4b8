"""The dashboard at `/`: a static page whose script polls the JSON API (no build step, no external asset)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from faust.web.drivers.aiohttp import Web as FaustAiohttpWeb

from web.errors import http_error

STATIC = Path(__file__).resolve().parent / "static" / "dashboard"
# An allow-list: a request names a file of this list, never a path.
ASSETS = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8"}
# The page loads only its own script and style sheet and talks only to this API.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class WorkerWeb(FaustAiohttpWeb):
    """Faust's aiohttp server without Faust's own index views, so the worker's `/` is the dashboard."""

    production_blueprints = [(p, bp) for p, bp in FaustAiohttpWeb.production_blueprints if p]
    debug_blueprints = [(p, bp) for p, bp in FaustAiohttpWeb.debug_blueprints if p]


def is_public(path: str) -> bool:
    """The page and its assets hold no data: they load without a token, which the page then asks for."""
    return path == "/" or path.startswith("/dashboard/assets/")


async def dashboard_page(request: web.Request) -> web.FileResponse:
    """The dashboard: models, trainings, streams and the latest rows, with buttons to train and stream."""
    return web.FileResponse(STATIC / "index.html", headers={**SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8"})


async def dashboard_asset(request: web.Request) -> web.FileResponse:
    """The dashboard's script or style sheet."""
    name = request.match_info["name"]
    if name not in ASSETS:
        raise http_error(web.HTTPNotFound, f"no dashboard asset {name!r}")
    return web.FileResponse(STATIC / name, headers={**SECURITY_HEADERS, "Content-Type": ASSETS[name]})
