"""The dashboard's page and assets as the app serves them (the browser test drives the page itself)."""

from __future__ import annotations

import re

import pytest

from web.dashboard import WorkerWeb
from web.routes import create_app
from worker.app import app


@pytest.fixture
async def client(aiohttp_client):
    return await aiohttp_client(create_app(app.worker))


async def test_the_page_is_html_that_loads_only_its_own_assets(client):
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.content_type == "text/html" and resp.charset == "utf-8"
    page = await resp.text()
    assert "<title>cardiosynth" in page
    for control in ("train-method", "train-submit", "stream-rows", "stream-submit", "token-input",
                    "models-table", "tasks-table", "streams-table", "rows-table"):
        assert f'id="{control}"' in page, control
    # every script and style sheet is the worker's own; no CDN, no inline script
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {s for s in sources if s.endswith((".js", ".css"))} == {
        "dashboard/assets/dashboard.js", "dashboard/assets/dashboard.css"}
    assert not [s for s in sources if "//" in s]
    assert "<script>" not in page
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy


@pytest.mark.parametrize("name, content_type", [("dashboard.js", "text/javascript"),
                                                ("dashboard.css", "text/css")])
async def test_the_assets_are_served_with_their_content_types(client, name, content_type):
    resp = await client.get(f"/dashboard/assets/{name}")
    assert resp.status == 200 and resp.content_type == content_type
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert len(await resp.read()) > 1000


async def test_the_script_never_writes_html_from_data(client):
    script = await (await client.get("/dashboard/assets/dashboard.js")).text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink


@pytest.mark.parametrize("name", ["index.html", "missing.js", "..%2Fdashboard.py", "..%2F..%2Fsettings.py",
                                  "%2E%2E%2Fdocs.py", "dashboard.js%00.css"])
async def test_unknown_asset_names_are_404_and_name_no_path(client, name):
    resp = await client.get(f"/dashboard/assets/{name}")
    assert resp.status == 404
    assert "no dashboard asset" in (await resp.json())["error"]


async def test_a_path_outside_the_assets_is_not_served(client):
    resp = await client.get("/dashboard/assets/../../web/dashboard.py")
    assert resp.status == 404  # the URL normalises to /web/dashboard.py, which is no route


async def test_with_reads_guarded_the_page_loads_without_a_token_and_the_data_needs_one(client, monkeypatch):
    from pydantic import SecretStr

    import worker.settings as settings_module

    monkeypatch.setattr(settings_module.get_settings(), "api_token", SecretStr("s3cret"))
    monkeypatch.setattr(settings_module.get_settings(), "api_token_for_reads", True)
    assert (await client.get("/")).status == 200
    assert (await client.get("/dashboard/assets/dashboard.js")).status == 200
    resp = await client.get("/models")
    assert resp.status == 401 and "bearer token" in (await resp.json())["error"]
    assert (await client.get("/models", headers={"Authorization": "Bearer s3cret"})).status == 200


def test_the_worker_leaves_its_index_to_the_dashboard():
    """Faust's own index views mount at `/` too, and the first route wins: the worker's web server drops them."""
    prefixes = [prefix for prefix, _ in (*WorkerWeb.production_blueprints, *WorkerWeb.debug_blueprints,
                                         *WorkerWeb.default_blueprints)]
    assert "" not in prefixes
    assert "/table" in prefixes  # Faust's other views stay
