"""Evaluating synthetic rows against the real training rows and a holdout the synthesizer never saw."""

from __future__ import annotations

import math
import time
from typing import Any

from synthesis.evaluation.fidelity import fidelity, quality
from synthesis.evaluation.plots import plot_data
from synthesis.evaluation.privacy import privacy
from synthesis.evaluation.schema import column_kinds, metadata_dict
from synthesis.evaluation.utility import utility
from synthesis.rules import bmi_rule_report

__all__ = ["evaluate", "json_safe"]


def json_safe(value: Any) -> Any:
    """Plain Python numbers, lists and dicts; NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def evaluate(train_df, holdout_df, synthetic_df, metadata, target: str = "heart_disease", seed: int = 0,
             full: bool = True) -> dict:
    """Fidelity, utility (TSTR/TRTR), privacy, rule checks and plot data of synthetic_df, as a JSON-ready dict.

    full=False leaves out what does not change with the sampling seed or only serves the page (the
    diagnostic, the holdout's own quality, plot data): what a repeat over further seeds needs.
    """
    if holdout_df is None or len(holdout_df) == 0:
        raise ValueError("evaluate needs holdout rows: real rows the synthesizer was not trained on")
    if isinstance(synthetic_df, dict):  # SDV 2.0's sample() can answer {table: frame}
        synthetic_df = next(iter(synthetic_df.values()))
    metadata = metadata_dict(metadata)
    numeric, categorical = column_kinds(metadata, train_df)
    seconds: dict[str, float] = {}
    report: dict[str, Any] = {
        "rows": {"train": len(train_df), "holdout": len(holdout_df), "synthetic": len(synthetic_df)},
        "target": target,
        "seed": seed,
    }
    started = time.perf_counter()

    def timed(part: str, compute):
        began = time.perf_counter()
        result = compute()
        seconds[part] = round(time.perf_counter() - began, 3)
        return result

    if full:
        report["fidelity"] = timed("fidelity", lambda: fidelity(train_df, holdout_df, synthetic_df, metadata))
    else:
        report["fidelity"] = timed("fidelity", lambda: {"quality": quality(train_df, synthetic_df, metadata)})
    report["utility"] = timed(
        "utility", lambda: utility(train_df, holdout_df, synthetic_df, numeric, categorical, target, seed)
    )
    report["privacy"] = timed(
        "privacy", lambda: privacy(train_df, holdout_df, synthetic_df, numeric, categorical, seed)
    )
    rules = timed("rules", lambda: bmi_rule_report(synthetic_df, train_df))
    if rules is not None:
        report["rules"] = {"bmi": rules}
    pair_trend_scores = report["fidelity"]["quality"].pop("pair_trend_scores")
    if full:
        plots = timed("plots", lambda: plot_data(train_df, synthetic_df, numeric, categorical, seed))
        plots["pair_trend_scores"] = pair_trend_scores
        report["plots"] = plots
    seconds["total"] = round(time.perf_counter() - started, 3)
    report["seconds"] = seconds
    return json_safe(report)
