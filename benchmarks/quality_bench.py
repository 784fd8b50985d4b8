"""Quality benchmark: fit each method on the sample with a 20% holdout, evaluate, and print one table.

    .venv/bin/python benchmarks/quality_bench.py            # everything (about 15-25 CPU minutes on 2 cores)
    .venv/bin/python benchmarks/quality_bench.py --smoke    # 2 epochs, a few configurations, a minute
"""

from __future__ import annotations

import argparse
import json
import random
import time
import warnings
from pathlib import Path

DATASET = Path(__file__).resolve().parent.parent / "data" / "cvd_sample_3463.csv"
CLASSES = {
    "gaussian_copula": "GaussianCopulaSynthesizer",
    "ctgan": "CTGANSynthesizer",
    "tvae": "TVAESynthesizer",
    "copulagan": "CopulaGANSynthesizer",
}
SMALL_NETS = {"generator_dim": (128, 128), "discriminator_dim": (128, 128)}

# (section, method, parameters): "defaults" are methods.py's defaults; "copula" and "tune" are what was tried.
# Not tried, for CPU cost on 2 cores: discriminator_steps=5 (about 5x a CTGAN epoch) and 1000+ CTGAN epochs.
CONFIGURATIONS = [
    ("defaults", "ctgan", {"epochs": 300}),
    ("defaults", "tvae", {"epochs": 300}),
    ("defaults", "copulagan", {"epochs": 300}),
    *[
        ("copula", "gaussian_copula", {"default_distribution": d})
        for d in ("beta", "norm", "truncnorm", "gaussian_kde", "gamma", "uniform")
    ],
    ("tune", "tvae", {"epochs": 600}),
    ("tune", "tvae", {"epochs": 300, "batch_size": 100}),
    ("tune", "tvae", {"epochs": 300, "batch_size": 100, "compress_dims": (256, 256), "decompress_dims": (256, 256)}),
    ("tune", "ctgan", {"epochs": 600}),
    ("tune", "ctgan", {"epochs": 300, "batch_size": 100}),
    ("tune", "ctgan", {"epochs": 300, "batch_size": 200, "embedding_dim": 64, **SMALL_NETS}),
]
SMOKE = [
    ("defaults", "ctgan", {"epochs": 2}),
    ("defaults", "tvae", {"epochs": 2}),
    ("defaults", "copulagan", {"epochs": 2}),
    ("copula", "gaussian_copula", {"default_distribution": "beta"}),
    ("tune", "ctgan", {"epochs": 2, "batch_size": 200, "embedding_dim": 64, **SMALL_NETS}),
]
COLUMNS = [
    ("section", "{}"), ("seed", "{}"), ("method", "{}"), ("parameters", "{}"),
    ("fit_s", "{:.1f}"), ("fit_cpu_s", "{:.1f}"),
    ("quality", "{:.3f}"), ("shapes", "{:.3f}"), ("pairs", "{:.3f}"), ("quality_bmi_rule", "{:.3f}"),
    ("tstr_auc", "{:.3f}"), ("trtr_auc", "{:.3f}"), ("tstr_ratio", "{:.2f}"), ("dcr_share", "{:.3f}"),
    ("identical_train", "{:.4f}"), ("identical_holdout", "{:.4f}"), ("bmi_off", "{:.3f}"),
]


def fit_and_evaluate(method: str, parameters: dict, train, holdout, metadata, seed: int) -> dict:
    """One row of the table: fit time, quality, utility, privacy and the bmi rule for one configuration."""
    import numpy as np
    import sdv.single_table
    import torch

    from synthesis.evaluation import evaluate
    from synthesis.evaluation.fidelity import quality
    from synthesis.evaluation.schema import metadata_dict
    from synthesis.rules import apply_bmi_rule

    random.seed(seed), np.random.seed(seed), torch.manual_seed(seed)
    synthesizer = getattr(sdv.single_table, CLASSES[method])(metadata, **parameters)
    wall, cpu = time.perf_counter(), time.process_time()
    synthesizer.fit({"records": train})
    fit_s, fit_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    synthetic = synthesizer.sample(len(train))
    synthetic = synthetic["records"] if isinstance(synthetic, dict) else synthetic
    report = evaluate(train, holdout, synthetic, metadata, seed=seed)
    fixed_quality = quality(train, apply_bmi_rule(synthetic), metadata_dict(metadata))["score"]
    q, u, p = report["fidelity"]["quality"], report["utility"], report["privacy"]
    return {
        "method": method, "parameters": json.dumps(parameters, sort_keys=True).replace('"', ""),
        "fit_s": fit_s, "fit_cpu_s": fit_cpu_s, "quality": q["score"],
        "shapes": q["properties"]["Column Shapes"], "pairs": q["properties"]["Column Pair Trends"],
        "quality_bmi_rule": fixed_quality, "tstr_auc": u["tstr_auc"], "trtr_auc": u["trtr_auc"],
        "tstr_ratio": u["ratio"], "dcr_share": p["dcr_share"], "identical_train": p["identical_to_training"],
        "identical_holdout": p["identical_to_holdout"], "bmi_off": report.get("rules", {}).get("bmi", {}).get(
            "synthetic_off_share"), "holdout_quality": report["fidelity"]["holdout_quality"],
        "privacy_flags": p["flags"], "eval_s": report["seconds"]["total"],
    }


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(name for name, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = ["—" if row.get(name) is None else fmt.format(row[name]) for name, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def means_over_seeds(rows: list[dict]) -> list[dict]:
    """One row per (method, parameters) with every numeric column averaged over the seeds."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["section"], row["method"], row["parameters"]), []).append(row)
    out = []
    for (section, method, parameters), group in groups.items():
        mean = {"section": section, "seed": "mean", "method": method, "parameters": parameters}
        for name, _ in COLUMNS[4:]:
            values = [r[name] for r in group if r[name] is not None]
            mean[name] = sum(values) / len(values) if values else None
        out.append(mean)
    return out


def copula_goals(row: dict) -> dict[str, bool]:
    """The bar a default gaussian_copula should clear."""
    return {
        "quality>=0.90": row["quality"] >= 0.90,
        "tstr>=0.9*trtr": row["tstr_auc"] is not None and row["tstr_auc"] >= 0.9 * row["trtr_auc"],
        "dcr_share<=0.55": row["dcr_share"] <= 0.55,
        "identical_train<=identical_holdout": row["identical_train"] <= row["identical_holdout"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2 epochs and a handful of configurations")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (holdout split, model, evaluation)")
    parser.add_argument("--torch-threads", type=int, default=1, help="torch CPU threads (1 is fastest on 2 cores)")
    parser.add_argument("--sections", default="defaults,copula,tune", help="comma-separated sections to run")
    parser.add_argument("--match", default="", help="run only configurations whose method or parameters hold this")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import torch
    from sdv.metadata import Metadata

    from synthesis.datasets import read_dataset
    from synthesis.holdout import split_holdout

    torch.set_num_threads(args.torch_threads)
    dataset = read_dataset(DATASET)
    sections = set(args.sections.split(","))
    configurations = [
        c for c in (SMOKE if args.smoke else CONFIGURATIONS)
        if c[0] in sections and args.match in f"{c[1]} {json.dumps(c[2], sort_keys=True).replace(chr(34), '')}"
    ]
    rows, started = [], time.process_time()
    for seed in [int(s) for s in args.seeds.split(",")]:
        train, holdout = split_holdout(dataset, fraction=0.2, seed=seed)
        metadata = Metadata.detect_from_dataframes({"records": train})
        for section, method, parameters in configurations:
            row = {"section": section, "seed": seed}
            row |= fit_and_evaluate(method, parameters, train, holdout, metadata, seed)
            rows.append(row)
            print(markdown([row]).splitlines()[-1], flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1))
    print(f"\n{len(train)} training rows, {len(holdout)} holdout rows; holdout quality (the attainable mark) "
          f"{rows[0]['holdout_quality']:.3f}; total CPU {time.process_time() - started:.0f} s\n")
    print(markdown(rows))
    if len({r["seed"] for r in rows}) > 1:
        print("\nmeans over seeds:\n" + markdown(means_over_seeds(rows)))
    print("\ngaussian_copula goals:")
    for row in means_over_seeds(rows):
        if row["method"] == "gaussian_copula":
            print(f"  {row['parameters']}: {copula_goals(row)}")
    print("\nbest per method (quality, then TSTR):")
    for method in CLASSES:
        candidates = [r for r in means_over_seeds(rows) if r["method"] == method]
        if candidates:
            best = max(candidates, key=lambda r: (round(r["quality"], 3), r["tstr_auc"] or 0))
            tstr = "—" if best["tstr_auc"] is None else f"{best['tstr_auc']:.3f}"
            print(f"  {method}: {best['parameters']} quality {best['quality']:.3f} TSTR {tstr}")


if __name__ == "__main__":
    main()
