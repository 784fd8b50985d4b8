#!/usr/bin/env python3
"""MOSTLY AI's TabularARGN on the same splits and with the same evaluation as benchmarks/quality_bench.py.

    .venv/bin/python benchmarks/argn_bench.py --argn-python /path/to/other-venv/bin/python

mostlyai-engine cannot be installed beside the worker (it upgrades click past faust-streaming's pin and
brings transformers, datasets, peft, opacus and torchvision), so it runs in an environment of its own:
    python3 -m venv ../argn-venv && ../argn-venv/bin/pip install torch==2.13.0 mostlyai-engine==2.7.3 \
        pandas==2.3.3 && ../argn-venv/bin/pip uninstall -y torchvision
(torchvision's wheel does not match the CPU torch: transformers fails to import with it.) That
environment fits the model and writes three synthetic sets as large as the training part per split;
this one scores them exactly as the service scores its own models (synthesis.evaluation.evaluate, three
sets, mean over the sets, then mean ± sd over 3 holdout splits).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality_bench import summarise, table  # noqa: E402
from standin import SAMPLE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--argn-python", required=True, help="python of an environment with mostlyai-engine")
    parser.add_argument("--splits", default="0,1,2")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from sdv.metadata import Metadata

    from synthesis.datasets import read_dataset
    from synthesis.evaluation import evaluate
    from synthesis.holdout import split_holdout
    from synthesis.quality import EVALUATION_SEEDS, metrics_summary, seed_summary
    from synthesis.rules import apply_bmi_rule

    df = read_dataset(SAMPLE)
    folder = Path(tempfile.mkdtemp())
    results = []
    for split in [int(s) for s in args.splits.split(",")]:
        train, holdout = split_holdout(df, fraction=0.2, seed=split)
        metadata = Metadata.detect_from_dataframes({"records": df})
        train.to_csv(folder / f"train{split}.csv", index=False)
        prefix = folder / f"synthetic{split}"
        done = subprocess.run(
            [args.argn_python, str(ROOT / "benchmarks" / "argn_fit.py"), str(folder / f"train{split}.csv"),
             str(prefix), str(len(train)), str(len(EVALUATION_SEEDS))],
            capture_output=True, text=True, check=False,
        )
        if done.returncode:
            raise SystemExit(f"TabularARGN failed on split {split}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        timing = json.loads(done.stdout.strip().splitlines()[-1])
        reports = []
        for n, seed in enumerate(EVALUATION_SEEDS):
            import pandas as pd

            synthetic = apply_bmi_rule(pd.read_csv(f"{prefix}.{n}.csv")[list(train.columns)])
            reports.append(evaluate(train, holdout, synthetic, metadata, seed=seed, full=not reports))
        report = reports[0] | {"seeds": seed_summary(reports, list(EVALUATION_SEEDS))}
        result = metrics_summary(report) | timing | {"bmi_off_share_with_rule": report["seeds"]["figures"][
            "bmi_off_share"]["mean"]}
        results.append(result)
        print(f"  tabular_argn split {split}: quality {result['quality_score']:.3f} TSTR/TRTR "
              f"{result['tstr_ratio']:.3f} DCR {result['dcr_share']:.3f} fit {result['fit_s']:.1f} s", flush=True)
    print("\n" + table([summarise("tabular_argn (mostlyai-engine 2.7.3, defaults)", results)]))


if __name__ == "__main__":
    main()
