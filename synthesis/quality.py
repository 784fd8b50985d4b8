"""The evaluation run after every fit: synthetic sets as large as the training part, over several seeds."""

from __future__ import annotations

import logging
import statistics
from typing import Any

from synthesis.evaluation import evaluate, json_safe
from synthesis.rules import apply_bmi_rule, bmi_rule_report

logger = logging.getLogger(__name__)

# On a large dataset the evaluation scores seeded samples of the rows: its metrics settle well before
# these sizes, and scoring all of 308,854 rows would cost more than the fit itself.
MAX_EVALUATION_HOLDOUT_ROWS = 20_000
MAX_EVALUATION_TRAINING_ROWS = 50_000
# Each seed draws a fresh synthetic set as large as the training part: the TSTR classifier then learns
# from as many rows as the TRTR one, and one lucky or unlucky draw cannot make the headline figure.
EVALUATION_SEEDS = (0, 1, 2)
# The figures repeated on every seed: headline value (the mean), spread and per-seed values.
SEED_FIGURES = {
    "quality_score": ("fidelity", "quality", "score"),
    "column_shapes": ("fidelity", "quality", "properties", "Column Shapes"),
    "column_pair_trends": ("fidelity", "quality", "properties", "Column Pair Trends"),
    "tstr_auc": ("utility", "tstr_auc"),
    "tstr_ratio": ("utility", "ratio"),
    "dcr_share": ("privacy", "dcr_share"),
    "identical_to_training": ("privacy", "identical_to_training"),
    "identical_to_holdout": ("privacy", "identical_to_holdout"),
    "bmi_off_share": ("rules", "bmi", "synthetic_off_share"),
}


def _at_most(df, rows: int):
    return df if len(df) <= rows else df.sample(n=rows, random_state=0).reset_index(drop=True)


def _get(report: dict, path: tuple[str, ...]):
    for key in path:
        report = report.get(key) if isinstance(report, dict) else None
    return report


def seed_summary(reports: list[dict[str, Any]], seeds: list[int]) -> dict[str, Any]:
    """Per figure: the value on each seed, their mean, standard deviation, minimum and maximum."""
    figures: dict[str, Any] = {}
    for name, path in SEED_FIGURES.items():
        values = [_get(r, path) for r in reports]
        known = [float(v) for v in values if v is not None]
        figures[name] = {
            "values": values,
            "mean": statistics.fmean(known) if known else None,
            "std": statistics.stdev(known) if len(known) > 1 else (0.0 if known else None),
            "min": min(known) if known else None,
            "max": max(known) if known else None,
        }
    return {"seeds": seeds, "synthetic_rows": reports[0]["rows"]["synthetic"], "figures": figures}


def sample_rows(synthesizer, num_rows: int, seed: int):
    """num_rows rows drawn from a fresh sampling state at `seed` (the same seed gives the same rows)."""
    synthesizer.reset_sampling()
    synthesizer._set_random_state(seed)
    sampled = synthesizer.sample(num_rows)
    return next(iter(sampled.values())) if isinstance(sampled, dict) else sampled


def evaluate_fit(synthesizer, metadata, train_df, holdout_df, target: str, keep_bmi_rule: bool,
                 seeds: tuple[int, ...] = EVALUATION_SEEDS) -> dict[str, Any]:
    """The full report of the first seed (JSON-ready), with every seed's headline figures under "seeds".

    BMI off-rule shares are given with and without the rule.
    """
    train_df = _at_most(train_df, MAX_EVALUATION_TRAINING_ROWS)
    holdout_df = _at_most(holdout_df, MAX_EVALUATION_HOLDOUT_ROWS)
    reports, first_raw = [], None
    for seed in seeds:
        raw = sample_rows(synthesizer, len(train_df), seed)
        synthetic = apply_bmi_rule(raw) if keep_bmi_rule else raw
        reports.append(evaluate(train_df, holdout_df, synthetic, metadata, target=target, seed=seed,
                                full=not reports))
        first_raw = raw if first_raw is None else first_raw
    report = reports[0]
    without = bmi_rule_report(first_raw, train_df)
    with_rule = bmi_rule_report(apply_bmi_rule(first_raw), train_df)
    if without is not None:
        report.setdefault("rules", {})["bmi"] = {
            **(report.get("rules", {}).get("bmi") or {}),
            "kept_by_option": keep_bmi_rule,
            "synthetic_off_share_without_rule": without["synthetic_off_share"],
            "synthetic_off_share_with_rule": with_rule["synthetic_off_share"],
        }
    report["seeds"] = seed_summary(reports, list(seeds))
    return json_safe(report)


def metrics_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The headline figures kept in the manifest and shown by /model/info: means over the seeds."""
    fidelity, utility, privacy = report.get("fidelity", {}), report.get("utility", {}), report.get("privacy", {})
    bmi = (report.get("rules") or {}).get("bmi") or {}
    seeds = report.get("seeds") or {}
    figures = seeds.get("figures") or {}

    def mean(name: str):
        figure = figures.get(name)
        return figure["mean"] if figure else _get(report, SEED_FIGURES[name])

    return {
        "quality_score": mean("quality_score"),
        "column_shapes": mean("column_shapes"),
        "column_pair_trends": mean("column_pair_trends"),
        "diagnostic_score": (fidelity.get("diagnostic") or {}).get("score"),
        "tstr_auc": mean("tstr_auc"),
        "trtr_auc": utility.get("trtr_auc"),
        "tstr_ratio": mean("tstr_ratio"),
        "dcr_share": mean("dcr_share"),
        "identical_to_training": mean("identical_to_training"),
        "identical_to_holdout": mean("identical_to_holdout"),
        "privacy_flagged": bool(privacy.get("flagged")),
        "privacy_flags": privacy.get("flags") or [],
        "bmi_off_share_with_rule": bmi.get("synthetic_off_share_with_rule"),
        "bmi_off_share_without_rule": bmi.get("synthetic_off_share_without_rule"),
        "holdout_rows": (report.get("rows") or {}).get("holdout"),
        "evaluation_seeds": len(seeds.get("seeds") or []) or 1,
        "synthetic_rows": seeds.get("synthetic_rows") or (report.get("rows") or {}).get("synthetic"),
        "spread": {name: figure["std"] for name, figure in figures.items()},
    }
