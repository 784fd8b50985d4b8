"""The OpenAPI 3.1 document of the HTTP API, built from the router and the pydantic request models.

Paths come from the application's router, so a route cannot be served without being documented;
web/routes.py keeps a `RouteDoc` per route (summary, request model, answers) next to the routes.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import metadata
from typing import Any, Mapping

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from web.errors import json_response

REF = "#/components/schemas/{model}"
# What a status means in this API, wherever it is answered.
MEANINGS = {
    200: "OK", 202: "Accepted: the work was queued; poll the status URL in the answer",
    400: "Malformed JSON, a body that is not an object, or an invalid parameter",
    401: "Missing bearer token (API_TOKEN set; reads too with API_TOKEN_FOR_READS)", 403: "Invalid bearer token",
    404: "No such model, version, task, stream or file", 409: "Conflicts with the current state",
    413: "Body larger than MAX_BODY_BYTES", 415: "Content-Type is not application/json",
    422: "Field errors, one per invalid field in `detail`",
    429: "Too many generation or training requests in flight from this client; retry when one has finished",
    503: "A part of the service is down",
}
ERROR = {
    "type": "object", "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, for a person to read."},
        "field": {"type": "string", "description": "The field at fault (400 on dataset_path)."},
        "detail": {"type": "array", "items": {
            "type": "object", "required": ["field", "message", "type"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}, "type": {"type": "string"}},
        }},
    },
}
TEXT_TYPES = ("text/", "application/javascript")


@dataclass(frozen=True)
class RouteDoc:
    """What the router cannot tell about a route."""

    summary: str
    tag: str
    responses: tuple[int, ...] = (200,)
    body: type[BaseModel] | None = None
    produces: tuple[str, ...] = ("application/json",)
    path_params: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # schemas; string by default
    query: Mapping[str, dict[str, Any]] = field(default_factory=dict)


ROUTE_DOCS_KEY = web.AppKey("route_docs", dict)  # what web.routes documents of each route


def documented_routes(router: web.UrlDispatcher) -> list[tuple[str, str, Any]]:
    """(method, path, handler) of every route; a HEAD that aiohttp added beside a GET is the GET's."""
    routes = [(r.method, r.resource.canonical, r.handler) for r in router.routes() if r.resource is not None]
    gets = {path for method, path, _ in routes if method == "GET"}
    return [(m, p, h) for m, p, h in routes if not (m == "HEAD" and p in gets)]


def _content(media_types: tuple[str, ...], schema: dict[str, Any]) -> dict[str, Any]:
    return {t: {"schema": {"type": "string"} if t.startswith(TEXT_TYPES) else schema} for t in media_types}


def _responses(method: str, doc: RouteDoc) -> dict[str, Any]:
    codes = set(doc.responses) | {401, 403}
    if doc.body is not None:
        codes |= {400, 413, 415, 422}
    error = {"$ref": REF.format(model="Error")}
    out = {}
    for code in sorted(codes):
        answer: dict[str, Any] = {"description": MEANINGS.get(code) or HTTPStatus(code).phrase}
        if method != "HEAD":
            produces = doc.produces if code == 200 else ("application/json",)  # a 202 answers the id to poll
            answer["content"] = _content(produces, {"type": "object"} if code < 300 else error)
        out[str(code)] = answer
    return out


def _fallback_doc(handler) -> RouteDoc:
    """For a route without a RouteDoc, such as the views Faust adds to the worker (/router/, /table/)."""
    tag = "faust" if handler.__module__.startswith("faust.") else "other"
    return RouteDoc(summary=(inspect.getdoc(handler) or f"{tag} view").splitlines()[0], tag=tag)


def _operation_id(method: str, path: str, handler) -> str:
    # Faust wraps each of its views in a function named `_dispatch`: such ids come from the path instead.
    name = handler.__name__ if not handler.__name__.startswith("_") else re.sub(r"\W+", "_", path).strip("_")
    return f"{method.lower()}_{name or 'root'}"


def _operation(method: str, path: str, handler, doc: RouteDoc | None, schema_refs: dict) -> dict[str, Any]:
    doc = doc or _fallback_doc(handler)
    operation: dict[str, Any] = {
        "operationId": _operation_id(method, path, handler), "summary": doc.summary, "tags": [doc.tag],
        "responses": _responses(method, doc),
    }
    if description := inspect.getdoc(handler):
        operation["description"] = description
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": doc.path_params.get(name, {"type": "string"})}
        for name in re.findall(r"\{(\w+)\}", path)
    ]
    parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                   for name, schema in doc.query.items()]
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        required = any(f.is_required() for f in doc.body.model_fields.values())  # /train works with no body
        operation["requestBody"] = {"required": required,
                                    "content": {"application/json": {"schema": schema_refs[doc.body]}}}
    # No token, or a bearer token: API_TOKEN guards changing requests, and reads with API_TOKEN_FOR_READS.
    operation["security"] = [{}, {"bearerAuth": []}]
    return operation


def _version() -> str:
    try:
        return metadata.version("cardiosynth")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def build_document(router: web.UrlDispatcher, docs: Mapping[tuple[str, str], RouteDoc]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route in `router`."""
    models = sorted({d.body for d in docs.values() if d.body is not None}, key=lambda m: m.__name__)
    refs, definitions = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schema_refs = {model: refs[(model, "validation")] for model in models}
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler in documented_routes(router):
        paths.setdefault(path, {})[method.lower()] = _operation(
            method, path, handler, docs.get((method, path)), schema_refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "cardiosynth", "version": _version(),
                 "description": "Synthetic cardiovascular records: train SDV models, generate and stream records "
                                "through Kafka into the warehouse. Errors are JSON `{\"error\": ...}`."},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {**definitions.get("$defs", {}), "Error": ERROR},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "API_TOKEN"}},
        },
    }


async def openapi_json(request: web.Request) -> web.Response:
    """This document."""
    return json_response(build_document(request.app.router, request.app[ROUTE_DOCS_KEY]))
