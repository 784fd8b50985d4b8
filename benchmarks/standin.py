"""A full-size stand-in for CVD_cleaned.csv (which cannot be downloaded here) that favours no method.

Rows are the bundled sample's real rows drawn with replacement; every number is jittered within the
survey's own resolution (height by whole cm, weight by about 2%, the consumption counts by about one
unit), clipped to the sample's range, and BMI is recomputed from the jittered height and weight. No
model is fitted to make it, so no method's assumptions are built into the data it is scored on.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "cvd_sample_3463.csv"
FULL_ROWS = 308_854
DESCRIPTION = ("stand-in: the 3,463 real sample rows resampled with replacement, numbers jittered "
               "(height ±2 cm, weight ±2%, consumption ±1), BMI recomputed; no model fitted")


def make_standin(rows: int, folder: Path, seed: int = 0) -> Path:
    """The stand-in CSV of `rows` rows in the original header (cached in folder)."""
    path = folder / f"cvd_resampled_{rows}_{seed}.csv"
    if path.exists():
        return path
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    sample = pd.read_csv(SAMPLE)
    df = sample.iloc[rng.integers(0, len(sample), rows)].reset_index(drop=True)
    height, weight = "Height_(cm)", "Weight_(kg)"
    df[height] = (df[height] + rng.normal(0, 2, rows)).round()
    df[weight] = (df[weight] * rng.normal(1, 0.02, rows)).round(2)
    for column in ("Alcohol_Consumption", "Fruit_Consumption", "Green_Vegetables_Consumption",
                   "FriedPotato_Consumption"):
        df[column] = (df[column] + rng.normal(0, 1, rows)).round()
    for column in (height, weight, "Alcohol_Consumption", "Fruit_Consumption", "Green_Vegetables_Consumption",
                   "FriedPotato_Consumption"):
        df[column] = df[column].clip(sample[column].min(), sample[column].max())
    df["BMI"] = (df[weight] / (df[height] / 100) ** 2).round(2)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    df.to_csv(tmp, index=False)
    tmp.rename(path)
    return path
