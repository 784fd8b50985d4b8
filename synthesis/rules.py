"""Rules the cardiovascular tables obey: bmi is weight_kg / (height_cm / 100)²."""

from __future__ import annotations

from typing import Any

BMI_COLUMNS = ("bmi", "weight_kg", "height_cm")
BMI_TOLERANCE = 1.0  # BMI units; the survey rounds height to whole cm, which alone moves BMI by ~0.3


def has_bmi_columns(df) -> bool:
    return all(column in df.columns for column in BMI_COLUMNS)


def bmi_from_weight_and_height(df):
    """BMI computed from weight_kg and height_cm; NaN where height is missing or not positive."""
    import numpy as np
    import pandas as pd

    height_m = pd.to_numeric(df["height_cm"], errors="coerce") / 100
    weight = pd.to_numeric(df["weight_kg"], errors="coerce")
    return (weight / height_m.where(height_m > 0) ** 2).replace([np.inf, -np.inf], np.nan)


def apply_bmi_rule(df):
    """A copy of df with bmi recomputed from weight_kg and height_cm (2 decimals), when all three exist."""
    if not has_bmi_columns(df):
        return df
    out = df.copy()
    computed = bmi_from_weight_and_height(out).round(2)
    # keep the synthesizer's value where the formula cannot be applied (missing or zero height)
    out["bmi"] = computed.where(computed.notna(), out["bmi"])
    return out


def bmi_off_share(df) -> tuple[float | None, int]:
    """(share of rows whose bmi is more than BMI_TOLERANCE from the formula, rows that could be checked)."""
    import pandas as pd

    computed = bmi_from_weight_and_height(df)
    given = pd.to_numeric(df["bmi"], errors="coerce")
    checkable = computed.notna() & given.notna()
    n = int(checkable.sum())
    if n == 0:
        return None, 0
    off = (given[checkable] - computed[checkable]).abs() > BMI_TOLERANCE
    return float(off.mean()), n


def bmi_rule_report(synthetic_df, train_df) -> dict[str, Any] | None:
    """The bmi rule's section of an evaluation; None when the three columns are not all there."""
    if not (has_bmi_columns(synthetic_df) and has_bmi_columns(train_df)):
        return None
    synthetic_share, synthetic_checked = bmi_off_share(synthetic_df)
    real_share, real_checked = bmi_off_share(train_df)
    return {
        "tolerance": BMI_TOLERANCE,
        "synthetic_off_share": synthetic_share,
        "synthetic_rows_checked": synthetic_checked,
        "real_off_share": real_share,
        "real_rows_checked": real_checked,
    }
