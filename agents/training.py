"""Training: the train command starts a fit in the training process pool and reports its progress."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents.commands import handles
from worker.app import app
from worker.schemas import TrainCommand
from agents.status import now, publish_status, training_tasks
from models_store import ModelStoreError
from synthesis.datasets import DatasetError, resolve_dataset
from synthesis.training import train_model

logger = logging.getLogger(__name__)


def _on_progress(item: dict[str, Any]) -> None:
    """Called on the event loop for each progress event a training process sends."""
    task_id = item["task_id"]
    if item["progress"] >= 100:
        return  # completion is published with the result, below
    asyncio.ensure_future(
        publish_status("training", task_id, changes={"progress": item["progress"], "message": item["message"]})
    )


@handles("train")
async def start_training(command: TrainCommand) -> None:
    if training_tasks.get(command.id) is not None or command.id in app.worker.trainings:
        logger.info("training task %s already known; duplicate command ignored", command.id)
        return
    res = app.worker
    entry = {
        "task_id": command.id, "status": "pending", "progress": 0, "message": "queued",
        "model_name": command.model_name, "method": command.method, "dataset_path": command.dataset_path,
        "epochs": command.epochs, "created_at": now(), "started_at": None, "completed_at": None,
        "error": None, "result": None,
    }
    try:
        dataset_file = resolve_dataset(res.settings.data_dir, command.dataset_path)
        if res.store.exists(command.model_name) and not command.overwrite_existing:
            raise ModelStoreError(f"model {command.model_name!r} exists; set overwrite_existing to add a version")
    except (DatasetError, ModelStoreError) as exc:
        await publish_status("training", command.id, changes=entry | {
            "status": "failed", "error": str(exc), "message": "rejected", "completed_at": now()})
        return
    await publish_status("training", command.id, changes=entry | {"heartbeat_at": now()})
    job = {
        "task_id": command.id, "dataset_file": str(dataset_file), "dataset_path": command.dataset_path,
        "model_name": command.model_name, "method": command.method, "epochs": command.epochs,
        "parameters": command.parameters, "models_dir": str(res.settings.models_dir),
        "enable_gpu": res.settings.enable_gpu, "keep_bmi_rule": command.keep_bmi_rule,
        "holdout_fraction": command.holdout_fraction, "target": command.target,
        "max_bad_row_share": res.settings.max_bad_row_share,
    }
    app.worker.trainings[command.id] = asyncio.ensure_future(_train(job))


async def _heartbeat(task_id: str, every: float) -> None:
    """Tell the other workers this training is alive (see agents.recovery)."""
    while True:
        await asyncio.sleep(every)
        await publish_status("training", task_id, changes={"heartbeat_at": now()})


async def _train(job: dict[str, Any]) -> None:
    task_id = job["task_id"]
    res = app.worker
    heartbeat = asyncio.ensure_future(_heartbeat(task_id, res.settings.heartbeat_seconds))
    try:
        pool = res.training_pool(_on_progress)
        await publish_status("training", task_id, changes={"status": "running", "started_at": now(), "message": "starting"})
        manifest = await asyncio.get_running_loop().run_in_executor(pool, train_model, job)
        result = {
            "model_name": manifest["name"],
            "model_version": manifest["version"],
            "model_path": str(res.store.version_dir(manifest["name"], manifest["version"])),
            "training_time": manifest["training_seconds"],
            "dataset_rows": manifest["rows"],
        }
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the training process reports any failure as the task's error
        logger.warning("training task %s failed: %s", task_id, exc)
        await publish_status("training", task_id, changes={
            "status": "failed", "error": f"{type(exc).__name__}: {exc}", "message": "failed", "completed_at": now()})
    else:
        await publish_status("training", task_id, changes={
            "status": "completed", "progress": 100, "message": "completed", "completed_at": now(), "result": result})
    finally:
        heartbeat.cancel()
        app.worker.trainings.pop(task_id, None)


async def fail_running(reason: str, timeout: float) -> list[str]:
    """End the trainings this worker runs as failed with `reason` (the worker stops); returns those the broker took.

    Their tasks are cancelled first, so nothing they would report follows (their processes are killed
    later in the stop). With the broker unreachable for `timeout` seconds, another worker's
    agents.recovery ends them instead, once their heartbeat is stale."""
    tasks = dict(app.worker.trainings)
    for task in tasks.values():
        task.cancel()

    async def fail(task_id: str) -> None:
        sent = await publish_status("training", task_id, changes={
            "status": "failed", "message": "failed", "completed_at": now(),
            "error": f"{reason} before the training ended; start the training again"})
        await asyncio.shield(sent)  # on the broker: every worker's status view shows it (shielded: Faust's future)

    try:
        await asyncio.wait_for(asyncio.gather(*map(fail, tasks)), timeout)
    except asyncio.TimeoutError:
        logger.warning("trainings %s: their failure was not acknowledged by the broker within %.0fs",
                       sorted(tasks), timeout)
        return []
    return sorted(tasks)
