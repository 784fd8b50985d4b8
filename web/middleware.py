"""Middlewares: every error leaves as JSON, and nothing a client sends becomes a 500."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from web.context import worker_of
from web.dashboard import is_public
from web.errors import http_error, json_response

logger = logging.getLogger(__name__)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@web.middleware
async def json_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return json_response({"error": exc.reason if not exc.text or exc.text.startswith(str(exc.status)) else exc.text},
                             status=exc.status)
    except Exception:
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return json_response({"error": "internal error; see the worker log"}, status=500)


@web.middleware
async def require_token(request: web.Request, handler):
    """With API_TOKEN set, changing requests need `Authorization: Bearer <token>` (reads too, if so set,
    but the dashboard's page and assets: they hold no data, and the page asks for the token)."""
    settings = worker_of(request).settings
    token = settings.api_token
    if token is None or (request.method in SAFE_METHODS and (not settings.api_token_for_reads
                                                             or is_public(request.path))):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise http_error(web.HTTPUnauthorized, "missing bearer token")
    if not hmac.compare_digest(header[7:].encode(), token.get_secret_value().encode()):
        raise http_error(web.HTTPForbidden, "invalid token")
    return await handler(request)


EXPENSIVE = {("POST", "/generate"), ("POST", "/train")}
IN_FLIGHT = web.AppKey("expensive_in_flight", dict)  # client address -> its expensive requests in flight


@web.middleware
async def limit_expensive_requests(request: web.Request, handler):
    """A client (by address) may have only a few expensive requests in flight; the rest get 429."""
    if (request.method, request.path) not in EXPENSIVE:
        return await handler(request)
    client = request.remote or "unknown"
    limit = worker_of(request).settings.max_expensive_requests_per_client
    in_flight = request.app[IN_FLIGHT]
    if in_flight.get(client, 0) >= limit:
        raise http_error(web.HTTPTooManyRequests, f"at most {limit} generation or training requests at a time "
                                                  "per client; retry when one has finished")
    in_flight[client] = in_flight.get(client, 0) + 1
    try:
        return await handler(request)
    finally:
        in_flight[client] -= 1
        if not in_flight[client]:
            del in_flight[client]


MIDDLEWARES = [json_errors, require_token, limit_expensive_requests]
