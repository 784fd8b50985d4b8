#!/usr/bin/env python3
"""CTGAN through the service's training function on the CPU and, when one is present, on a CUDA GPU.

  .venv/bin/python benchmarks/gpu_check.py [--rows 308854] [--epochs 3] [--out DIR]

Runs synthesis.training.train_model (what a worker's training process runs) twice on the same
stand-in dataset (see training_bench.py): enable_gpu False, then True. Prints the device the manifest
records, the fit time, the time per epoch (from the epoch progress events) and the quality score.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


class EpochClock:
    """Stands in for the progress queue: keeps when each epoch event arrived."""

    def __init__(self):
        self.epochs: list[float] = []

    def put(self, item: dict) -> None:
        if item["message"].startswith("epoch "):
            self.epochs.append(time.perf_counter())


def run(dataset: Path, models: Path, epochs: int, gpu: bool) -> dict:
    import synthesis.training as training

    clock = EpochClock()
    training._progress_queue = clock
    job = {"task_id": uuid.uuid4().hex, "method": "ctgan", "dataset_file": str(dataset),
           "dataset_path": dataset.name, "models_dir": str(models), "model_name": f"gpu_check_{int(gpu)}",
           "epochs": epochs, "enable_gpu": gpu, "holdout_fraction": 0.2, "parameters": {}}
    manifest = training.train_model(job)
    per_epoch = (clock.epochs[-1] - clock.epochs[0]) / (len(clock.epochs) - 1) if len(clock.epochs) > 1 else None
    return {"device": manifest["device"], "fit_s": manifest["fit_seconds"], "epoch_s": per_epoch,
            "quality": (manifest.get("metrics") or {}).get("quality_score")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=308_854)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import torch

    from training_bench import make_dataset

    work = args.out or Path(tempfile.mkdtemp(prefix="gpu-check-"))
    dataset = make_dataset(args.rows, work / "data")
    cuda = torch.cuda.is_available()
    print(f"torch {torch.__version__}; CUDA: {torch.cuda.get_device_name(0) if cuda else 'none'}; "
          f"CPU threads {torch.get_num_threads()}; {args.rows:,}-row stand-in, CTGAN, {args.epochs} epochs")
    rows = [run(dataset, work / "models", args.epochs, gpu=False)]
    if cuda:
        rows.append(run(dataset, work / "models", args.epochs, gpu=True))
    print(f"{'device':8s} {'fit s':>8s} {'s/epoch':>8s} {'quality':>8s}")
    for r in rows:
        epoch = f"{r['epoch_s']:.2f}" if r["epoch_s"] else "-"
        quality = f"{r['quality']:.3f}" if r["quality"] is not None else "-"
        print(f"{r['device']:8s} {r['fit_s']:>8.1f} {epoch:>8s} {quality:>8s}")
    if len(rows) == 2 and rows[0]["epoch_s"] and rows[1]["epoch_s"]:
        print(f"epoch speed-up on the GPU: {rows[0]['epoch_s'] / rows[1]['epoch_s']:.2f}x")


if __name__ == "__main__":
    main()
