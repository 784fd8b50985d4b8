"""The OpenAPI document, the documentation pages, and a property-based run of the live API (no 5xx)."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from faust.web.drivers.aiohttp import Web as FaustWeb
from schemathesis import GenerationMode

from tests.live_app import LiveApp, kafka_cut_out  # noqa: F401  # a fixture
from web.openapi import documented_routes
from web.routes import create_app
from worker.app import app

EXAMPLES = 20  # per operation and mode (valid, invalid): bounded, and the same requests every run


@pytest.fixture
async def client(aiohttp_client, kafka_cut_out):
    return await aiohttp_client(create_app(app.worker))


async def test_the_document_is_valid_openapi_3_1(client):
    resp = await client.get("/openapi.json")
    assert resp.status == 200 and resp.content_type == "application/json"
    document = await resp.json()
    validate(document)  # raises, naming the offending part, if the document is not valid OpenAPI
    assert document["openapi"].startswith("3.1")


async def test_every_route_of_the_router_is_documented(client):
    document = await (await client.get("/openapi.json")).json()
    routes = documented_routes(client.app.router)
    assert len(routes) >= 20
    for method, path, _ in routes:
        operation = document["paths"].get(path, {}).get(method.lower())
        assert operation is not None, f"{method} {path} is missing from /openapi.json"
        assert operation["summary"] and operation["responses"], (method, path)
    served = {(m, p) for m, p, _ in routes}
    listed = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert listed == served
    # a HEAD that aiohttp adds beside each GET is the GET's, not an operation of its own
    assert all(m != "HEAD" for m, _ in listed)


async def test_the_views_faust_adds_to_the_worker_are_documented_too(aiohttp_client, kafka_cut_out):
    class TableList:
        """List the tables of this worker."""

    web_app = create_app(app.worker)
    # as Faust's aiohttp driver adds them to the worker's router (its index views are left out: `/` is the dashboard)
    for path in ("/router/", "/table/", "/table/{name}/"):
        web_app.router.add_get(path, FaustWeb._wrap_into_asyncdef(None, TableList()))
    client = await aiohttp_client(web_app)
    document = await (await client.get("/openapi.json")).json()
    validate(document)  # operation ids stay unique although every Faust view is a function named _dispatch
    assert document["paths"]["/"]["get"]["tags"] == ["dashboard"]
    for path in ("/router/", "/table/", "/table/{name}/"):
        operation = document["paths"][path]["get"]
        assert operation["tags"] == ["faust"] and operation["summary"] == "List the tables of this worker."
    assert document["paths"]["/table/{name}/"]["get"]["operationId"] == "get_table_name"


async def test_request_bodies_are_the_pydantic_models(client):
    document = await (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for path, model in (("/train", "TrainRequest"), ("/generate", "GenerateRequest"), ("/stream", "StreamRequest")):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{model}"}
        assert schemas[model]["additionalProperties"] is False
    assert schemas["GenerateRequest"]["required"] == ["num_samples"]
    assert schemas["TrainRequest"]["properties"]["model_name"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    generate = document["paths"]["/generate"]["post"]["responses"]
    assert set(generate["200"]["content"]) == {"application/json", "text/csv"}
    assert generate["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("page, asset_names", [
    ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css"}),
    ("/redoc", {"redoc.standalone.js"}),
])
async def test_documentation_pages_and_their_assets_are_served_offline(client, page, asset_names):
    resp = await client.get(page)
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    urls = re.findall(r'(?:src|href|spec-url|url)\s*[=:]\s*"([^"]+)"', html)
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))], f"{page} loads from elsewhere: {urls}"
    assert {u.rsplit("/", 1)[-1] for u in urls} >= asset_names | {"openapi.json"}
    for url in urls:
        path = urljoin(f"http://test{page}", url).removeprefix("http://test")
        asset = await client.get(path)
        assert asset.status == 200, path
        body = await asset.read()
        assert len(body) > 1000, path
        if path.endswith(".js"):
            assert asset.content_type in ("text/javascript", "application/javascript"), path


async def test_an_unknown_asset_is_not_found_and_no_path_escapes(client):
    for name in ("nope.js", "..%2F..%2Fsettings.py", "%2e%2e%2fapp.py"):
        resp = await client.get(f"/docs/assets/{name}")
        assert resp.status == 404, name
        assert "error" in await resp.json()


# --- property-based: every operation, generated requests, never a 5xx -----------------------------
# Hypothesis drives schemathesis' strategies directly: its pytest plugin (schema.parametrize) reads a
# private pytest attribute that pytest 9 no longer has.


@pytest.fixture
def live_api(kafka_cut_out):
    with LiveApp() as api:
        api.published = kafka_cut_out
        yield api


def run_operation(operation, mode: GenerationMode, base_url: str) -> tuple[int, list[str]]:
    """Requests made and the 5xx answers found for one operation (Hypothesis stops at the first, shrunk)."""
    calls, found = 0, []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def call(case):
        nonlocal calls
        calls += 1
        response = case.call(base_url=base_url, timeout=60)
        if response.status_code >= 500:
            found.append(f"{response.status_code} {response.text[:300]}\n  {case.as_curl_command()}")
            raise AssertionError(found[-1])

    try:
        call()
    except AssertionError:
        pass  # reported through `found`, once every operation had its run
    except Unsatisfiable:
        # Negative mode on input that cannot be invalid (say, a free-form string in the path):
        # Hypothesis has shown no such request exists.
        assert mode is GenerationMode.NEGATIVE, f"no valid request of {operation.label} could be generated"
    return calls, found[-1:]


def test_no_generated_request_gets_a_server_error(live_api):
    schema = schemathesis.openapi.from_url(f"{live_api.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    calls, failures = {}, []
    for operation in operations:
        for mode in GenerationMode:
            made, found = run_operation(operation, mode, live_api.url)
            calls[operation.label, mode] = made
            failures += [f"{operation.label} ({mode.value}): {error}" for error in found]
    assert not failures, "\n".join(failures)
    assert all(calls[op.label, GenerationMode.POSITIVE] for op in operations), calls
    for label in ("POST /train", "POST /generate", "POST /stream", "GET /warehouse/records"):
        assert calls[label, GenerationMode.NEGATIVE] >= 10, (label, calls)  # invalid input was sent too
    assert live_api.published.await_count > 0  # valid training requests reached the (mock) control topic
