#!/usr/bin/env python3
"""Training at the real size: each method's phases, SDV's defaults against this project's, and the service.

  .venv/bin/python benchmarks/training_bench.py                # 308,854 rows, then 1M and 3M (about 45 min here)
  .venv/bin/python benchmarks/training_bench.py --smoke        # 5,000 rows, 1 epoch, each path once (CI)

The full Kaggle file cannot be downloaded here, so the benchmark first writes a stand-in of the same
size and columns: rows sampled from a GaussianCopula fitted on the bundled 3,463-row sample.

Each configuration runs in a fresh spawned process (its peak RSS is that process's own), with the
same 80/20 holdout split the service uses:
  sdv          SDV as shipped: RDT's per-row loops, every row in the per-column fits, SDV's defaults
  cardiosynth  what the service runs: vectorised RDT loops (bit-identical output), per-column fits on
               at most 50,000 rows, this project's tuned defaults, epochs scaled to the row count
  service      POST /train to a real worker (spawned training pool, progress events) with the
               cardiosynth settings; its fit time against the direct cardiosynth run is the overhead
Epoch methods run --epochs epochs; their totals at the default epochs add (epochs x time per epoch)
to the measured preprocessing and are marked "est." when more epochs than measured.
Quality is SDV's quality score and the TSTR ratio on the holdout (evaluation as in the service).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "data" / "cvd_sample_3463.csv"
FULL_ROWS = 308_854
SDV_DEFAULT_EPOCHS = 300
CLASSES = {
    "gaussian_copula": "GaussianCopulaSynthesizer",
    "ctgan": "CTGANSynthesizer",
    "tvae": "TVAESynthesizer",
    "copulagan": "CopulaGANSynthesizer",
}


def make_dataset(rows: int, folder: Path) -> Path:
    """A CSV of `rows` rows sampled from a GaussianCopula fitted on the bundled sample (cached)."""
    path = folder / f"cvd_standin_{rows}.csv"
    if path.exists():
        return path
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    from synthesis.datasets import read_dataset

    sample = read_dataset(SAMPLE)
    synthesizer = GaussianCopulaSynthesizer(Metadata.detect_from_dataframes({"records": sample}))
    synthesizer.fit({"records": sample})
    synthesizer._set_random_state(0)
    frames = []
    for start in range(0, rows, 500_000):
        out = synthesizer.sample(min(500_000, rows - start))
        frames.append(next(iter(out.values())) if isinstance(out, dict) else out)
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pd.concat(frames, ignore_index=True).to_csv(tmp, index=False)
    tmp.rename(path)
    return path


class PhaseClock:
    """Times SDV's preprocessing, CTGAN's transformer fit and transform, and each epoch."""

    def __init__(self):
        self.marks: dict[str, float] = {}
        self.epoch_ends: list[float] = []

    def install(self):
        from ctgan.data_transformer import DataTransformer

        clock, fit, transform = self, DataTransformer.fit, DataTransformer.transform

        def timed_fit(dt, *args, **kwargs):
            start = time.perf_counter()
            result = fit(dt, *args, **kwargs)
            clock.marks["transformer_fit"] = time.perf_counter() - start
            return result

        def timed_transform(dt, *args, **kwargs):
            start = time.perf_counter()
            result = transform(dt, *args, **kwargs)
            clock.marks.setdefault("transformer_transform", time.perf_counter() - start)
            clock.marks.setdefault("epochs_start", time.perf_counter())
            return result

        DataTransformer.fit, DataTransformer.transform = timed_fit, timed_transform
        return fit, transform


def run_config(job: dict) -> dict:
    """One configuration in its own process: phases, quality, peak RSS."""
    import resource

    warnings.filterwarnings("ignore")
    import importlib

    from sdv.metadata import Metadata

    from synthesis import speedups
    from synthesis.datasets import read_dataset
    from synthesis.holdout import split_holdout
    from synthesis.methods import get_method
    from synthesis.quality import evaluate_fit, metrics_summary
    from synthesis.training import _stop_loky_workers, epoch_progress

    out: dict = {"config": job["config"], "method": job["method"], "rows": job["rows"]}
    out["sdv_kwargs"] = {}
    df = read_dataset(Path(job["dataset"]))
    start = time.perf_counter()
    metadata = Metadata.detect_from_dataframes({"records": df})
    out["metadata_s"] = time.perf_counter() - start
    train, holdout = split_holdout(df, fraction=0.2, seed=0, target="heart_disease")
    if job["vectorised"]:
        speedups.install()
    method = get_method(job["method"])
    cls = getattr(importlib.import_module("sdv.single_table"), CLASSES[job["method"]])
    kwargs = dict(job["parameters"])
    if method.epochs is not None:
        kwargs.update(epochs=job["epochs"], enable_gpu=False)
    synthesizer = cls(metadata, **kwargs)
    out["sdv_kwargs"] = kwargs
    clock = PhaseClock()
    clock.install()
    start = time.perf_counter()
    with speedups.fit_on_row_sample(job["fit_rows"]), epoch_progress(lambda *_: clock.epoch_ends.append(
            time.perf_counter())):
        processed = synthesizer.preprocess({"records": train})
        out["preprocess_s"] = time.perf_counter() - start
        fit_start = time.perf_counter()
        synthesizer.fit_processed_data(processed)
        out["model_fit_s"] = time.perf_counter() - fit_start
    out["fit_s"] = time.perf_counter() - start
    out.update({k: v for k, v in clock.marks.items() if k != "epochs_start"})
    if clock.epoch_ends:
        ends = [clock.marks["epochs_start"], *clock.epoch_ends]
        out["epochs_measured"] = len(clock.epoch_ends)
        out["epoch_s"] = (ends[-1] - ends[0]) / len(clock.epoch_ends)
        if not job["vectorised"]:  # what the vectorised loops make of the same fitted transformer
            speedups.install()
            model = synthesizer._model
            table = processed["records"] if isinstance(processed, dict) else processed
            start = time.perf_counter()
            transformer = getattr(model, "_transformer", None) or model.transformer  # CTGAN, TVAE
            transformer.transform(table)
            out["vectorised_transform_s"] = time.perf_counter() - start
            speedups.uninstall()
    start = time.perf_counter()
    report = evaluate_fit(synthesizer, metadata, train, holdout, "heart_disease", keep_bmi_rule=True)
    out["evaluate_s"] = time.perf_counter() - start
    summary = metrics_summary(report)
    out["quality"], out["tstr_ratio"] = summary["quality_score"], summary["tstr_ratio"]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _stop_loky_workers()  # else this process waits for joblib's idle workers (5 minutes) before exiting
    return out


def in_fresh_process(job: dict) -> dict:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_config, job).result()


def service_fit(dataset: Path, method: str, epochs: int | None) -> dict:
    """POST /train to a real worker on the embedded broker; the manifest's fit and training seconds."""
    from broker.embedded import EmbeddedBroker
    from tests.harness import Worker, free_port

    tmp = Path(tempfile.mkdtemp(prefix="training-bench-"))
    broker = EmbeddedBroker(free_port(), tmp / "broker")
    broker.ensure()
    worker = Worker(broker.bootstrap, tmp, DATA_DIR=str(dataset.parent))
    try:
        worker.start()
        body = {"method": method, "dataset_path": dataset.name, "model_name": f"bench_{method}"}
        if epochs is not None:
            body["epochs"] = epochs
        answer = worker.post("/train", json=body)
        assert answer.status_code == 202, answer.text
        task = worker.wait_training(answer.json()["task_id"], timeout=4 * 3600)
        assert task["status"] == "completed", task
        from models_store import ModelStore

        manifest = ModelStore(worker.env["MODELS_DIR"]).manifest(f"bench_{method}")
        return {"fit_s": manifest["fit_seconds"], "training_s": manifest["training_seconds"],
                "quality": (manifest.get("metrics") or {}).get("quality_score"),
                "tstr_ratio": (manifest.get("metrics") or {}).get("tstr_ratio")}
    finally:
        worker.stop()
        broker.stop()


def configs(method: str, rows: int, epochs: int, fit_rows: int) -> list[dict]:
    from synthesis.methods import default_epochs, get_method

    m = get_method(method)
    sdv = {"config": "sdv", "vectorised": False, "fit_rows": 0, "parameters": {}}
    ours = {"config": "cardiosynth", "vectorised": True, "fit_rows": fit_rows, "parameters": dict(m.defaults)}
    for c in (sdv, ours):
        c.update(method=method, rows=rows, epochs=epochs if m.epochs is not None else None)
    sdv["default_epochs"] = SDV_DEFAULT_EPOCHS if m.epochs is not None else None
    ours["default_epochs"] = default_epochs(m, int(rows * 0.8))
    return [sdv, ours]


def total_at_default(row: dict) -> tuple[float, bool]:
    """Fit seconds at the configuration's default epochs, and whether that is an estimate."""
    if not row.get("default_epochs"):
        return row["fit_s"], False
    measured = row["epochs_measured"]
    extra = (row["default_epochs"] - measured) * row["epoch_s"]
    return row["fit_s"] + extra, row["default_epochs"] != measured


def fmt(value, spec="{:.1f}"):
    return "-" if value is None else spec.format(value)


def print_table(rows: list[dict]) -> None:
    header = ["rows", "method", "config", "preprocess s", "transformer fit s", "transform s", "epoch s",
              "default epochs", "fit at default s", "peak RSS MB", "quality", "TSTR ratio"]
    lines = [header]
    for r in rows:
        total, estimated = (r["fit_at_default"], r["estimated"]) if "fit_at_default" in r else (r.get("fit_s"), False)
        transform = fmt(r.get("transformer_transform"))
        if r.get("vectorised_transform_s") is not None:
            transform += f" ({r['vectorised_transform_s']:.1f} vectorised)"
        lines.append([
            f"{r['rows']:,}", r["method"], r["config"], fmt(r.get("preprocess_s")), fmt(r.get("transformer_fit")),
            transform, fmt(r.get("epoch_s")), fmt(r.get("default_epochs"), "{}"),
            fmt(total) + (" est." if estimated else ""), fmt(r.get("peak_rss_mb"), "{:.0f}"),
            fmt(r.get("quality"), "{:.3f}"), fmt(r.get("tstr_ratio"), "{:.2f}"),
        ])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print(" | ".join(str(c).ljust(w) for c, w in zip(line, widths)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=FULL_ROWS)
    parser.add_argument("--methods", default="gaussian_copula,ctgan,tvae,copulagan")
    parser.add_argument("--epochs", type=int, default=2, help="epochs actually run per epoch method")
    parser.add_argument("--fit-rows", type=int, default=50_000)
    parser.add_argument("--scale-rows", default="1000000,3000000",
                        help="larger stand-ins: the cardiosynth configuration of gaussian_copula and ctgan")
    parser.add_argument("--no-service", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="5,000 rows, 1 epoch, gaussian_copula and ctgan, the service for gaussian_copula only")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args()
    service_methods = ("gaussian_copula", "ctgan")
    if args.smoke:
        args.rows, args.epochs, args.scale_rows, args.fit_rows = 5_000, 1, "", 2_000
        args.methods, service_methods = "gaussian_copula,ctgan", ("gaussian_copula",)
    methods = [m for m in args.methods.split(",") if m]
    import os

    print(f"machine: {os.cpu_count()} CPUs; torch threads {__import__('torch').get_num_threads()}")
    dataset = make_dataset(args.rows, args.data_dir)
    print(f"dataset: {dataset} ({args.rows:,} rows) - a stand-in sampled from a GaussianCopula fitted on the "
          f"bundled 3,463-row sample, not the Kaggle file")
    results = []
    for method in methods:
        for job in configs(method, args.rows, args.epochs, args.fit_rows):
            if args.smoke and method != "gaussian_copula" and job["config"] == "sdv":
                continue  # the smoke runs each path once: gaussian_copula covers "sdv"
            job["dataset"] = str(dataset)
            row = {**job, **in_fresh_process(job)}
            row["fit_at_default"], row["estimated"] = total_at_default(row)
            results.append(row)
            print(f"  {method} {job['config']}: fit {row['fit_s']:.1f} s, quality {fmt(row.get('quality'), '{:.3f}')}",
                  flush=True)
    service = []
    if not args.no_service:
        for method in [m for m in methods if m in service_methods]:
            epochs = args.epochs if method != "gaussian_copula" else None
            direct = next(r for r in results if r["method"] == method and r["config"] == "cardiosynth")
            measured = service_fit(dataset, method, epochs)
            service.append((method, direct["fit_s"], measured))
            print(f"  {method} service: fit {measured['fit_s']:.1f} s", flush=True)
    for rows in [int(r) for r in args.scale_rows.split(",") if r]:
        larger = make_dataset(rows, args.data_dir)
        for method in [m for m in methods if m in ("gaussian_copula", "ctgan")]:
            job = configs(method, rows, 1, args.fit_rows)[1] | {"dataset": str(larger)}
            row = {**job, **in_fresh_process(job)}
            row["fit_at_default"], row["estimated"] = total_at_default(row)
            results.append(row)
            print(f"  {rows:,} {method}: fit {row['fit_s']:.1f} s", flush=True)
    print()
    print_table(results)
    if service:
        print()
        print("method | direct fit s (cardiosynth) | service fit s | service / direct | service training s (all steps)")
        for method, direct, measured in service:
            print(f"{method} | {direct:.1f} | {measured['fit_s']:.1f} | {measured['fit_s'] / direct:.3f} | "
                  f"{measured['training_s']:.1f}")


if __name__ == "__main__":
    main()
