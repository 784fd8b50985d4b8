"""The evaluation run after every fit: sample as many rows as the holdout and score them."""

from __future__ import annotations

import logging
from typing import Any

from synthesis.evaluation import evaluate, json_safe
from synthesis.rules import apply_bmi_rule, bmi_rule_report

logger = logging.getLogger(__name__)
DCR_LIMIT = 0.6
# On a large dataset the evaluation scores seeded samples of the rows: its metrics settle well before
# these sizes, and scoring all of 308,854 rows would cost more than the fit itself.
MAX_EVALUATION_HOLDOUT_ROWS = 20_000
MAX_EVALUATION_TRAINING_ROWS = 50_000


def _at_most(df, rows: int):
    return df if len(df) <= rows else df.sample(n=rows, random_state=0).reset_index(drop=True)


def evaluate_fit(synthesizer, metadata, train_df, holdout_df, target: str, keep_bmi_rule: bool) -> dict[str, Any]:
    """The full report (JSON-ready); BMI off-rule shares are given with and without the rule."""
    train_df = _at_most(train_df, MAX_EVALUATION_TRAINING_ROWS)
    holdout_df = _at_most(holdout_df, MAX_EVALUATION_HOLDOUT_ROWS)
    synthesizer.reset_sampling()
    synthesizer._set_random_state(0)
    sampled = synthesizer.sample(len(holdout_df))
    raw = next(iter(sampled.values())) if isinstance(sampled, dict) else sampled
    synthetic = apply_bmi_rule(raw) if keep_bmi_rule else raw
    report = evaluate(train_df, holdout_df, synthetic, metadata, target=target)
    without, with_rule = bmi_rule_report(raw, train_df), bmi_rule_report(apply_bmi_rule(raw), train_df)
    if without is not None:
        report.setdefault("rules", {})["bmi"] = {
            **(report.get("rules", {}).get("bmi") or {}),
            "kept_by_option": keep_bmi_rule,
            "synthetic_off_share_without_rule": without["synthetic_off_share"],
            "synthetic_off_share_with_rule": with_rule["synthetic_off_share"],
        }
    return json_safe(report)


def metrics_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The headline figures kept in the manifest and shown by /model/info."""
    fidelity, utility, privacy = report.get("fidelity", {}), report.get("utility", {}), report.get("privacy", {})
    quality = fidelity.get("quality", {})
    bmi = (report.get("rules") or {}).get("bmi") or {}
    return {
        "quality_score": quality.get("score"),
        "column_shapes": (quality.get("properties") or {}).get("Column Shapes"),
        "column_pair_trends": (quality.get("properties") or {}).get("Column Pair Trends"),
        "diagnostic_score": (fidelity.get("diagnostic") or {}).get("score"),
        "tstr_auc": utility.get("tstr_auc"),
        "trtr_auc": utility.get("trtr_auc"),
        "tstr_ratio": utility.get("ratio"),
        "dcr_share": privacy.get("dcr_share"),
        "identical_to_training": privacy.get("identical_to_training"),
        "identical_to_holdout": privacy.get("identical_to_holdout"),
        "privacy_flagged": bool(privacy.get("flagged")),
        "privacy_flags": privacy.get("flags") or [],
        "bmi_off_share_with_rule": bmi.get("synthetic_off_share_with_rule"),
        "bmi_off_share_without_rule": bmi.get("synthetic_off_share_without_rule"),
        "holdout_rows": (report.get("rows") or {}).get("holdout"),
    }
