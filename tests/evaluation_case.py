"""One GaussianCopula fitted on the sample with a 20% holdout, evaluated once and shared by the evaluation tests."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATASET = Path(__file__).resolve().parent.parent / "data" / "cvd_sample_3463.csv"
MANIFEST = {
    "name": "cvd-copula",
    "version": 1,
    "method": "gaussian_copula",
    "parameters": {"default_distribution": "beta"},
    "dataset_path": "cvd_sample_3463.csv",
    "rows": 2770,
}


@dataclass(frozen=True)
class EvaluatedSample:
    train: Any
    holdout: Any
    synthetic: Any
    metadata: Any
    report: dict


@functools.lru_cache(maxsize=1)
def evaluated_sample() -> EvaluatedSample:
    """Fit, sample as many rows as the holdout, and evaluate (cached for the test session)."""
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    from synthesis.datasets import read_dataset
    from synthesis.evaluation import evaluate
    from synthesis.holdout import split_holdout

    train, holdout = split_holdout(read_dataset(DATASET), fraction=0.2, seed=0)
    metadata = Metadata.detect_from_dataframes({"records": train})
    synthesizer = GaussianCopulaSynthesizer(metadata)
    synthesizer.fit({"records": train})
    synthetic = synthesizer.sample(len(holdout))
    synthetic = synthetic["records"] if isinstance(synthetic, dict) else synthetic
    report = evaluate(train, holdout, synthetic, metadata, target="heart_disease", seed=0)
    return EvaluatedSample(train, holdout, synthetic, metadata, report)
