"""JSON errors and request parsing shared by the views."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS, default=str),
        status=status,
        content_type="application/json",
    )


def http_error(cls: type[web.HTTPException], message: str, **extra: Any) -> web.HTTPException:
    """An HTTP exception carrying a JSON body {"error": message, ...}."""
    return cls(
        text=orjson.dumps({"error": message, **extra}).decode(), content_type="application/json"
    )


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]} for e in errors]


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The body as `model`: 415 unless JSON, 400 when malformed, 422 naming each invalid field."""
    if request.content_type != "application/json" and request.can_read_body:
        raise http_error(web.HTTPUnsupportedMediaType, f"expected application/json, got {request.content_type}")
    raw = await request.read()  # aiohttp answers 413 past client_max_size
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise http_error(web.HTTPBadRequest, f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise http_error(web.HTTPBadRequest, "the body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = field_errors(exc)
        summary = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
        raise http_error(web.HTTPUnprocessableEntity, summary, detail=errors) from None
