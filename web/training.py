"""Training views: methods, datasets, starting a training and following it."""

from __future__ import annotations

from aiohttp import web

from worker.schemas import TrainCommand, TrainRequest
from agents.control import publish_command
from models_store import is_url
from synthesis.datasets import DatasetError, list_datasets, resolve_dataset
from synthesis.methods import METHODS
from web.accepting import ACCEPTED, training_entry
from web.context import worker_of
from web.errors import http_error, json_response, parse_body


def method_view(method) -> dict:
    """A method as the original README lists it (`method` the id, `name` the synthesizer class), and its parameters."""
    return {"method": method.name, **method.describe(), "name": method.synthesizer.rsplit(".", 1)[-1]}


async def list_methods(request: web.Request) -> web.Response:
    settings = worker_of(request).settings
    return json_response({
        "methods": [method_view(m) for m in METHODS.values()],
        "default_method": settings.default_method,
        "epochs_method": settings.epochs_method,
    })


async def datasets(request: web.Request) -> web.Response:
    found = list_datasets(worker_of(request).settings.data_dir)
    return json_response({"datasets": found, "total_count": len(found)})


async def start_training(request: web.Request) -> web.Response:
    body = await parse_body(request, TrainRequest)
    res = worker_of(request)
    try:
        resolve_dataset(res.settings.data_dir, body.dataset_path)
    except DatasetError as exc:
        raise http_error(web.HTTPBadRequest, str(exc), field="dataset_path") from None
    if res.store.exists(body.model_name) and not body.overwrite_existing:
        raise http_error(
            web.HTTPConflict,
            f"model {body.model_name!r} exists; send overwrite_existing: true to train a new version",
        )
    command = TrainCommand(command="train", **body.model_dump())
    await publish_command(command)
    request.app[ACCEPTED].add("training", command.id, training_entry(command))
    return json_response(
        {"status": "started", "task_id": command.id,
         "message": f"Training task initiated. Use task_id to check progress. Training {body.method} model "
                    f"{body.model_name!r} on {body.dataset_path}.",
         "status_url": f"/train/status/{command.id}", "model_name": body.model_name, "method": body.method,
         "method_reason": body.method_reason, "dataset_path": body.dataset_path, "epochs": body.epochs},
        status=202,
    )


def task_view(worker, entry: dict) -> dict:
    view = {k: entry.get(k) for k in (
        "task_id", "status", "progress", "message", "model_name", "method", "dataset_path", "epochs",
        "created_at", "started_at", "completed_at", "error", "result")}
    result = view["result"]
    if result and result.get("model_name") and result.get("model_version"):
        # model_path names the synthesizer file, as the original README's result did; model_dir the version's folder
        store = worker.store
        view["result"] = {**result, "model_dir": result.get("model_path"),
                          "model_path": store.synthesizer_location(result["model_name"], result["model_version"]),
                          "model_path_is_url": is_url(store.location)}
    return view


async def training_status(request: web.Request) -> web.Response:
    task_id = request.match_info["task_id"]
    worker = worker_of(request)
    entry = request.app[ACCEPTED].get("training", task_id)
    if entry is None:
        raise http_error(web.HTTPNotFound, f"training task {task_id!r} not found")
    return json_response(task_view(worker, entry))


async def training_task_list(request: web.Request) -> web.Response:
    worker = worker_of(request)
    tasks = sorted((task_view(worker, v) for v in request.app[ACCEPTED].entries("training") if v),
                   key=lambda t: t["created_at"] or "", reverse=True)
    return json_response({"tasks": tasks, "total_count": len(tasks)})
