"""Swagger UI (/docs) and ReDoc (/redoc) pages, with their assets served by the worker: they work offline.

Swagger UI comes from the `swagger-ui-py` package's static files; ReDoc's standalone bundle is
vendored in web/static/redoc (npm `redoc` 2.5.4, MIT; no PyPI package ships it on its own).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from aiohttp import web

from web.errors import http_error

STATIC = Path(__file__).resolve().parent / "static"
# Relative URLs, so the pages also work behind a proxy that adds a path prefix.
SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cardiosynth API: Swagger UI</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true,
                             validatorUrl: null, tryItOutEnabled: true});
</script></body></html>
"""
REDOC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cardiosynth API: ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>body{margin:0}</style></head>
<body><redoc spec-url="openapi.json"></redoc>
<script src="docs/assets/redoc.standalone.js"></script></body></html>
"""


def _swagger_static() -> Path | None:
    spec = importlib.util.find_spec("swagger_ui")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "static"


def asset_files() -> dict[str, Path]:
    """The files /docs/assets/{name} serves: an allow-list, so no request names a path."""
    files = {"redoc.standalone.js": STATIC / "redoc" / "redoc.standalone.js"}
    swagger = _swagger_static()
    if swagger is not None:
        files |= {name: swagger / name for name in ("swagger-ui.css", "swagger-ui-bundle.js")}
    return files


async def swagger_ui(request: web.Request) -> web.Response:
    """Swagger UI: read and try the API in a browser."""
    return web.Response(text=SWAGGER_PAGE, content_type="text/html")


async def redoc(request: web.Request) -> web.Response:
    """ReDoc: the API reference as one page."""
    return web.Response(text=REDOC_PAGE, content_type="text/html")


async def asset(request: web.Request) -> web.StreamResponse:
    """A JavaScript or CSS file of the documentation pages."""
    name = request.match_info["name"]
    path = asset_files().get(name)
    if path is None or not path.is_file():
        hint = " (is swagger-ui-py installed?)" if name.startswith("swagger") else ""
        raise http_error(web.HTTPNotFound, f"no documentation asset {name!r}{hint}")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
