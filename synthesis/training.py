"""Fitting a synthesizer; runs in a spawned worker process and reports progress through a queue."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from models_store import open_store
from synthesis.dataset_check import DEFAULT_MAX_BAD_SHARE, check_dataset
from synthesis.holdout import split_holdout
from synthesis import speedups
from synthesis.methods import DEFAULT_FIT_ROWS, default_epochs, get_method
from synthesis.quality import EVALUATION_SEEDS, MAX_EVALUATION_HOLDOUT_ROWS, evaluate_fit, metrics_summary

logger = logging.getLogger(__name__)
TABLE = "records"
_progress_queue = None


def init_process(progress_queue) -> None:
    """In a training process (synthesis.process.init_training): keep the queue progress events go back through."""
    global _progress_queue
    _progress_queue = progress_queue
    logging.basicConfig(level=logging.WARNING)


def _report(task_id: str, progress: float, message: str) -> None:
    if _progress_queue is not None:
        _progress_queue.put({"task_id": task_id, "progress": round(progress, 1), "message": message})


class _EpochCounter:
    """Stands in for tqdm in CTGAN/TVAE's epoch loop and reports each completed epoch."""

    def __init__(self, on_epoch: Callable[[int, int], None]):
        self.on_epoch = on_epoch

    def __call__(self, iterable, *args, **kwargs):
        counter = self

        class _Loop:
            def __iter__(self):
                total = len(iterable)
                for i, item in enumerate(iterable):
                    yield item
                    counter.on_epoch(i + 1, total)  # the loop body for this epoch has finished

            def set_description(self, *a, **k):
                pass

        return _Loop()


@contextlib.contextmanager
def epoch_progress(on_epoch: Callable[[int, int], None]):
    modules = [importlib.import_module(m) for m in ("ctgan.synthesizers.ctgan", "ctgan.synthesizers.tvae")]
    saved = [m.tqdm for m in modules]
    for m in modules:
        m.tqdm = _EpochCounter(on_epoch)
    try:
        yield
    finally:
        for m, original in zip(modules, saved):
            m.tqdm = original


def describe_columns(metadata_dict: dict[str, Any], df) -> list[dict[str, Any]]:
    """Column schema kept in the manifest: what the sink validates records against."""
    columns = metadata_dict["tables"][TABLE]["columns"]
    out = []
    for name in df.columns:
        info = columns.get(name, {})
        entry: dict[str, Any] = {"name": name, "sdtype": info.get("sdtype", "unknown")}
        if entry["sdtype"] in ("categorical", "boolean"):
            entry["categories"] = sorted(str(v) for v in df[name].dropna().unique())
        elif entry["sdtype"] == "numerical":
            entry["min"], entry["max"] = float(df[name].min()), float(df[name].max())
        out.append(entry)
    return out


def build_synthesizer(method, metadata, parameters: dict[str, Any], epochs: int | None, training_rows: int,
                      enable_gpu: bool = False):
    """(synthesizer, its keyword arguments, fit_rows, epochs) as the service builds it for a method."""
    module, cls_name = method.synthesizer.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), cls_name)
    kwargs = {**method.defaults, **parameters}
    fit_rows = kwargs.pop("fit_rows", DEFAULT_FIT_ROWS)
    epochs = epochs or default_epochs(method, training_rows)
    if method.epochs is not None:
        kwargs["epochs"] = epochs
        kwargs["enable_gpu"] = bool(enable_gpu)
    return cls(metadata, **kwargs), kwargs, fit_rows, epochs


def train_model(job: dict[str, Any]) -> dict[str, Any]:
    """Fit job['method'] on job['dataset_file'] and publish it to the store; returns the manifest."""
    import sdv
    import torch
    from sdv.metadata import Metadata

    speedups.install()  # vectorised RDT loops: the same numbers, much faster (synthesis/speedups.py)
    task_id = job["task_id"]
    started = time.perf_counter()
    method = get_method(job["method"])
    dataset_file = Path(job["dataset_file"])
    _report(task_id, 1, f"reading and checking {dataset_file.name}")
    df, data_check = check_dataset(dataset_file, job.get("max_bad_row_share", DEFAULT_MAX_BAD_SHARE))
    dataset_sha = hashlib.sha256(dataset_file.read_bytes()).hexdigest()
    _report(task_id, 3, f"detecting metadata of {len(df)} rows x {df.shape[1]} columns")
    metadata = Metadata.detect_from_dataframes({TABLE: df})
    holdout_fraction = job.get("holdout_fraction", 0.2)
    target = job.get("target") or "heart_disease"
    if holdout_fraction:
        train_df, holdout_df = split_holdout(df, fraction=holdout_fraction, seed=0, target=target)
    else:
        train_df, holdout_df = df, None

    synthesizer, kwargs, fit_rows, epochs = build_synthesizer(
        method, metadata, job.get("parameters") or {}, job.get("epochs"), len(train_df), job.get("enable_gpu", True)
    )

    # Epoch methods spend 5-10% preprocessing; the epochs then fill 10-95%.
    def on_epoch(done: int, total: int) -> None:
        _report(task_id, 10 + 85 * done / total, f"epoch {done}/{total}")

    _report(task_id, 5, "fitting" if method.epochs is None else "preprocessing columns")
    fit_started = time.perf_counter()
    with epoch_progress(on_epoch), speedups.fit_on_row_sample(fit_rows):
        synthesizer.fit({TABLE: train_df})
    fit_seconds = time.perf_counter() - fit_started
    report = None
    if holdout_df is not None:
        _report(task_id, 96, f"evaluating {len(EVALUATION_SEEDS)} synthetic sets on "
                             f"{min(len(holdout_df), MAX_EVALUATION_HOLDOUT_ROWS)} held-out rows")
        try:
            report = evaluate_fit(synthesizer, metadata, train_df, holdout_df, target, job.get("keep_bmi_rule", True))
        except Exception as exc:  # a model that cannot be scored is still a model: say why
            logger.warning("evaluation of task %s failed: %s", task_id, exc)
            report = {"error": f"{type(exc).__name__}: {exc}"}
    _report(task_id, 98, "saving the model")

    store = open_store(job["models_dir"])  # the worker's store (local folder or URL), see synthesis.process
    staging = store.staging_dir()
    synthesizer.save(str(staging / "synthesizer.pkl"))
    metadata_dict = metadata.to_dict()
    metadata.save_to_json(str(staging / "metadata.json"))
    if report is not None:
        (staging / "report.json").write_text(json.dumps(report | {"data_check": data_check}))
    training_seconds = time.perf_counter() - started
    manifest = {
        "method": method.name,
        "parameters": kwargs | {"fit_rows": fit_rows} | ({"epochs": epochs} if method.epochs is not None else {}),
        "dataset_path": job["dataset_path"],
        "dataset_sha256": dataset_sha,
        "rows": int(len(df)),
        "data_check": data_check,
        "training_rows": int(len(train_df)),
        "holdout_fraction": holdout_fraction,
        "target": target,
        "keep_bmi_rule": bool(job.get("keep_bmi_rule", True)),
        "metrics": metrics_summary(report) if report and "error" not in report else None,
        "evaluation_error": report.get("error") if report else None,
        "columns": describe_columns(metadata_dict, df),
        "table_name": TABLE,
        "versions": {"sdv": sdv.__version__, "ctgan": _version("ctgan"), "torch": torch.__version__},
        "device": "cuda" if kwargs.get("enable_gpu") and torch.cuda.is_available() else "cpu",
        "created_at": datetime.now(timezone.utc).isoformat(),
        "training_seconds": round(training_seconds, 3),
        "fit_seconds": round(fit_seconds, 3),
        "task_id": task_id,
    }
    _stop_loky_workers()
    version = store.publish(job["model_name"], staging, manifest)
    _report(task_id, 100, "completed")
    return store.manifest(job["model_name"], version)


def _stop_loky_workers() -> None:
    """CTGAN's transformer runs columns in joblib's loky processes, which idle for 5 minutes after:
    stop them now, so they hold no memory between trainings and a pool process exits at once."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)
