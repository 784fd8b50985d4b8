"""Middlewares: every error leaves as JSON, and nothing a client sends becomes a 500."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

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
    """With API_TOKEN set, changing requests need `Authorization: Bearer <token>`."""
    from settings import get_settings

    token = get_settings().api_token
    if token is None or request.method in SAFE_METHODS:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise http_error(web.HTTPUnauthorized, "missing bearer token")
    if not hmac.compare_digest(header[7:].encode(), token.get_secret_value().encode()):
        raise http_error(web.HTTPForbidden, "invalid token")
    return await handler(request)


MIDDLEWARES = [json_errors, require_token]
