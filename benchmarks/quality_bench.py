#!/usr/bin/env python3
"""Every method, judged on fidelity, utility and privacy together: one table on the bundled sample and one
on a full-size stand-in.

    .venv/bin/python benchmarks/quality_bench.py                 # sample (3 splits) + 308,854-row stand-in
    .venv/bin/python benchmarks/quality_bench.py --sample-only   # the sample table alone
    .venv/bin/python benchmarks/quality_bench.py --smoke         # cart, 1 split, 5,000-row stand-in

Each row fits a method exactly as the service does (synthesis.training.build_synthesizer: this project's
defaults, epochs scaled to the rows, vectorised RDT loops, per-column fits on at most 50,000 rows) in a
fresh process, then runs the service's evaluation (synthesis.quality.evaluate_fit): three synthetic
sets as large as the training part, each scored for quality, TSTR and privacy against the 20% holdout.
On the sample this is repeated on 3 holdout splits (seeds 0, 1, 2) and the table gives mean ± sd over
the splits. sample r/s is one process drawing 100,000 rows (the BMI rule applied, as the pipeline does).
The default's bar (issue 11): quality >= 0.95, TSTR >= 0.95 x TRTR, DCR share <= 0.55, identical to
training <= identical to holdout, BMI rule broken in under 1% of rows.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from standin import DESCRIPTION, FULL_ROWS, SAMPLE, make_standin  # noqa: E402

# (label, method, parameters): the registry's defaults, then the settings that trade privacy for score
# and the differential-privacy budgets.
SAMPLE_RUNS = [
    ("cart", "cart", {}),
    ("cart smoothing=false", "cart", {"smoothing": False}),
    ("cart min_leaf=5", "cart", {"min_leaf": 5}),
    ("cart min_leaf=1", "cart", {"min_leaf": 1}),
    ("arf", "arf", {}),
    ("mst eps=1", "mst", {"epsilon": 1.0}),
    ("mst eps=3", "mst", {"epsilon": 3.0}),
    ("mst eps=10", "mst", {"epsilon": 10.0}),
    ("gaussian_copula", "gaussian_copula", {}),
    ("ctgan", "ctgan", {}),
    ("tvae", "tvae", {}),
    ("copulagan", "copulagan", {}),
]
FULL_RUNS = [
    ("cart", "cart", {}),
    ("cart smoothing=false", "cart", {"smoothing": False}),
    ("arf", "arf", {}),
    ("mst eps=1", "mst", {"epsilon": 1.0}),
    ("gaussian_copula", "gaussian_copula", {}),
    ("ctgan", "ctgan", {}),
    ("tvae", "tvae", {}),
    ("copulagan", "copulagan", {}),
]
SMOKE_RUNS = [("cart", "cart", {})]  # each path once (sample, stand-in); every method is trained in the unit tests
SAMPLE_ROWS_TIMED = 100_000
FIGURES = [  # (column, metrics key, format)
    ("quality", "quality_score", "{:.3f}"), ("TSTR/TRTR", "tstr_ratio", "{:.3f}"), ("DCR share", "dcr_share", "{:.3f}"),
    ("identical train", "identical_to_training", "{:.4f}"), ("identical holdout", "identical_to_holdout", "{:.4f}"),
    ("BMI off", "bmi_off_share_with_rule", "{:.4f}"), ("fit s", "fit_s", "{:.1f}"),
    ("sample r/s", "sample_rows_per_s", "{:,.0f}"), ("peak RSS MB", "peak_rss_mb", "{:,.0f}"),
]


def run_one(job: dict) -> dict:
    """Fit and evaluate one method on one split, in this (fresh) process."""
    import resource

    warnings.filterwarnings("ignore")
    import torch
    from sdv.metadata import Metadata

    from synthesis import speedups
    from synthesis.datasets import read_dataset
    from synthesis.holdout import split_holdout
    from synthesis.methods import get_method
    from synthesis.quality import evaluate_fit, metrics_summary, sample_rows
    from synthesis.rules import apply_bmi_rule
    from synthesis.training import _stop_loky_workers, build_synthesizer

    torch.set_num_threads(job["torch_threads"])
    torch.manual_seed(job["seed"])
    speedups.install()
    df = read_dataset(Path(job["dataset"]))
    train, holdout = split_holdout(df, fraction=0.2, seed=job["seed"])
    metadata = Metadata.detect_from_dataframes({"records": df})
    method = get_method(job["method"])
    synthesizer, _, fit_rows, epochs = build_synthesizer(method, metadata, job["parameters"], None, len(train))
    started = time.perf_counter()
    with speedups.fit_on_row_sample(fit_rows):
        synthesizer.fit({"records": train})
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    apply_bmi_rule(sample_rows(synthesizer, SAMPLE_ROWS_TIMED, 123))
    sample_s = time.perf_counter() - started
    report = evaluate_fit(synthesizer, metadata, train, holdout, "heart_disease", keep_bmi_rule=True)
    out = metrics_summary(report) | {
        "fit_s": fit_s, "sample_rows_per_s": SAMPLE_ROWS_TIMED / sample_s, "epochs": epochs,
        "trtr_auc": report["utility"].get("trtr_auc"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    _stop_loky_workers()
    return out


def in_fresh_process(job: dict) -> dict:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_one, job).result()


def goals(row: dict) -> dict[str, bool]:
    """The bar the default must clear (means over the splits)."""
    return {
        "quality>=0.95": row["quality_score"] >= 0.95,
        "tstr>=0.95*trtr": row["tstr_ratio"] is not None and row["tstr_ratio"] >= 0.95,
        "dcr_share<=0.55": row["dcr_share"] <= 0.55,
        "identical_train<=identical_holdout": row["identical_to_training"] <= row["identical_to_holdout"],
        "bmi_off<1%": (row["bmi_off_share_with_rule"] or 0) < 0.01,
    }


def summarise(label: str, results: list[dict]) -> dict:
    row = {"label": label, "splits": len(results), "flagged": sum(r["privacy_flagged"] for r in results)}
    for _, key, _ in FIGURES:
        values = [r[key] for r in results if r.get(key) is not None]
        row[key] = statistics.fmean(values) if values else None
        row[key + "_sd"] = statistics.stdev(values) if len(values) > 1 else None
    return row


def table(rows: list[dict]) -> str:
    lines = ["| method | " + " | ".join(name for name, _, _ in FIGURES) + " | privacy flag |",
             "|---|" + "---:|" * len(FIGURES) + "---|"]
    for row in rows:
        cells = []
        for _, key, fmt in FIGURES:
            value, sd = row.get(key), row.get(key + "_sd")
            cell = "—" if value is None else fmt.format(value)
            if sd is not None and key not in ("fit_s", "sample_rows_per_s", "peak_rss_mb"):
                cell += " ± " + fmt.format(sd)
            cells.append(cell)
        flag = f"{row['flagged']}/{row['splits']}"
        lines.append(f"| {row['label']} | " + " | ".join(cells) + f" | {flag} |")
    return "\n".join(lines)


def run_table(title: str, runs, dataset: Path, seeds: list[int], torch_threads: int, out: list) -> list[dict]:
    print(f"\n## {title}\n", flush=True)
    rows = []
    for label, method, parameters in runs:
        results = []
        for seed in seeds:
            job = {"dataset": str(dataset), "method": method, "parameters": parameters, "seed": seed,
                   "torch_threads": torch_threads}
            result = in_fresh_process(job)
            results.append(result)
            out.append({"table": title, "label": label, **job, **result})
            print(f"  {label} split {seed}: quality {result['quality_score']:.3f} TSTR/TRTR "
                  f"{result['tstr_ratio'] or float('nan'):.3f} DCR {result['dcr_share']:.3f} fit {result['fit_s']:.1f} s",
                  flush=True)
        rows.append(summarise(label, results))
    print("\n" + table(rows), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="cart, one split, a 5,000-row stand-in")
    parser.add_argument("--sample-only", action="store_true", help="only the table on the bundled sample")
    parser.add_argument("--full-only", action="store_true", help="only the table on the full-size stand-in")
    parser.add_argument("--rows", type=int, default=FULL_ROWS, help="rows of the stand-in")
    parser.add_argument("--match", default="", help="run only the methods whose label holds this")
    parser.add_argument("--labels", default="", help="comma-separated labels to run (default: all)")
    parser.add_argument("--splits", default="0,1,2", help="holdout split seeds on the sample")
    parser.add_argument("--torch-threads", type=int, default=1, help="torch CPU threads (1 is fastest on 2 cores)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "cardiosynth-bench")
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args()
    rows = 5_000 if args.smoke else args.rows
    labels = set(filter(None, args.labels.split(",")))
    pick = lambda runs: [r for r in runs if args.match in r[0] and (not labels or r[0] in labels)]  # noqa: E731
    out: list[dict] = []
    started = time.perf_counter()
    if not args.full_only:
        seeds = [0] if args.smoke else [int(s) for s in args.splits.split(",")]
        sample_rows = run_table(
            f"Bundled sample: 3,463 rows, 80/20 split, mean ± sd over {len(seeds)} split seeds",
            pick(SMOKE_RUNS if args.smoke else SAMPLE_RUNS), SAMPLE, seeds, args.torch_threads, out)
        default = next((r for r in sample_rows if r["label"] == "cart"), None)
        if default:
            print(f"\ndefault (cart) against the bar: {json.dumps(goals(default))}")
    if not args.sample_only:
        dataset = make_standin(rows, args.data_dir)
        run_table(f"Full size: {rows:,} rows ({DESCRIPTION}), split seed 0",
                  pick(SMOKE_RUNS if args.smoke else FULL_RUNS), dataset, [0], args.torch_threads, out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
    print(f"\nall methods: quality, TSTR/TRTR and privacy are means of 3 synthetic sets per fit "
          f"(as large as the training part); total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
