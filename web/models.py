"""Model views: the registry's models and versions, and the default model."""

from __future__ import annotations

from aiohttp import web

from models_store import ModelNotFound, ModelStoreError
from web.context import worker_of
from web.errors import http_error, json_response
from web.report_html import render_report

INFO_FIELDS = ("name", "version", "method", "parameters", "dataset_path", "rows", "columns", "created_at",
               "training_seconds", "versions", "device", "metrics", "evaluation_error", "keep_bmi_rule",
               "holdout_fraction", "target", "data_check")


def requested_model(worker, name: str | None) -> str:
    """The model a request names; a request that names none (the original README's /generate, /stream and
    /model/info) gets the most recently trained model, as the original service served the model it trained last;
    DEFAULT_MODEL (which /train names a model by default) when the store is empty, so the 404 says what to train."""
    if name:
        return name
    res = worker
    try:
        return res.store.newest() or res.settings.default_model
    except ModelStoreError:
        return res.settings.default_model


def _manifest(worker, name: str, version=None) -> dict:
    try:
        return worker.store.manifest(name, version)
    except ModelStoreError as exc:
        raise http_error(web.HTTPNotFound, str(exc)) from None


def model_info_view(manifest: dict) -> dict:
    info = {k: manifest.get(k) for k in INFO_FIELDS}
    info["model_name"] = info.pop("name")
    info["dataset_rows"] = info.pop("rows")
    info["training_rows"] = manifest.get("training_rows", info["dataset_rows"])
    info["training_time"] = info.pop("training_seconds")
    info["library_versions"] = info.pop("versions")
    info["column_names"] = [c["name"] for c in manifest.get("columns", [])]
    return info


async def model_info(request: web.Request) -> web.Response:
    worker = worker_of(request)
    return json_response(model_info_view(_manifest(worker, requested_model(worker, request.query.get("model_name")))))


async def models(request: web.Request) -> web.Response:
    worker = worker_of(request)
    found = worker.store.list()
    return json_response({"models": found, "total_count": len(found),
                          "default_model": worker.settings.default_model,
                          "model_when_unnamed": requested_model(worker, None) if found else None})


async def model_detail(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    worker = worker_of(request)
    store = worker.store
    latest = _manifest(worker, name)
    versions = [model_info_view(store.manifest(name, v)) for v in store.versions(name)]
    return json_response({"name": name, "latest_version": latest["version"], "versions": versions})


async def model_version(request: web.Request) -> web.Response:
    return json_response(model_info_view(_manifest(worker_of(request), request.match_info["name"],
                                                   request.match_info["version"])))


async def delete_model_version(request: web.Request) -> web.Response:
    name, version = request.match_info["name"], request.match_info["version"]
    worker = worker_of(request)
    _manifest(worker, name, version)
    try:
        worker.store.delete(name, version)
    except ModelStoreError as exc:
        raise http_error(web.HTTPNotFound, str(exc)) from None
    return json_response({"deleted": {"name": name, "version": int(version)}})


def _report(worker, name: str, version) -> tuple[dict, dict]:
    manifest = _manifest(worker, name, version)
    try:
        return manifest, worker.store.report(name, manifest["version"])
    except ModelNotFound:
        raise http_error(web.HTTPNotFound, f"model {name!r} version {manifest['version']} has no evaluation report "
                                           "(trained with holdout_fraction 0)") from None


async def model_report(request: web.Request) -> web.Response:
    """The evaluation report of the latest version (or ?version=)."""
    manifest, report = _report(worker_of(request), request.match_info["name"], request.query.get("version"))
    return json_response({"model_name": manifest["name"], "model_version": manifest["version"],
                          "metrics": manifest.get("metrics"), "report": report})


async def model_report_html(request: web.Request) -> web.Response:
    """The evaluation report as a page a person reads."""
    manifest, report = _report(worker_of(request), request.match_info["name"], request.query.get("version"))
    return web.Response(text=render_report(manifest, report), content_type="text/html")
