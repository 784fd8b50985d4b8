"""Fidelity: SDMetrics' quality and diagnostic reports of synthetic rows against the training rows."""

from __future__ import annotations

import warnings
from typing import Any

from synthesis.evaluation.schema import table_name

WORST_PAIRS = 5


def _score(value) -> float | None:
    import math

    return None if value is None or math.isnan(float(value)) else float(value)


def _properties(report) -> dict[str, float | None]:
    return {row.Property: _score(row.Score) for row in report.get_properties().itertuples()}


def _pair_matrix(pairs, columns: list[str]) -> dict[str, Any]:
    """Pair-trend scores as a symmetric matrix; None where SDMetrics skipped the pair (weak in real data)."""
    index = {name: i for i, name in enumerate(columns)}
    n = len(columns)
    scores: list[list[float | None]] = [[1.0 if i == j else None for j in range(n)] for i in range(n)]
    for _, row in pairs.iterrows():
        i, j = index.get(row["Column 1"]), index.get(row["Column 2"])
        if i is not None and j is not None:
            scores[i][j] = scores[j][i] = _score(row["Score"])
    return {"columns": columns, "scores": scores}


def quality(real_df, synthetic_df, metadata: dict[str, Any]) -> dict[str, Any]:
    """QualityReport overall, per property, per column shape, and the worst-kept column pairs."""
    from sdmetrics.reports import QualityReport

    table = table_name(metadata)
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate({table: real_df}, {table: synthetic_df}, metadata, verbose=False)
    shapes = report.get_details("Column Shapes")
    pairs = report.get_details("Column Pair Trends")
    scored = pairs.dropna(subset=["Score"]).sort_values("Score").head(WORST_PAIRS)
    return {
        "score": _score(report.get_score()),
        "properties": _properties(report),
        "column_shapes": {
            row["Column"]: {"metric": row["Metric"], "score": _score(row["Score"])} for _, row in shapes.iterrows()
        },
        "pair_trend_scores": _pair_matrix(pairs, list(real_df.columns)),
        "worst_pairs": [
            {"columns": [row["Column 1"], row["Column 2"]], "metric": row["Metric"], "score": _score(row["Score"])}
            for _, row in scored.iterrows()
        ],
    }


def diagnostic(real_df, synthetic_df, metadata: dict[str, Any]) -> dict[str, Any]:
    """DiagnosticReport overall and per property (data validity, structure)."""
    from sdmetrics.reports import DiagnosticReport

    table = table_name(metadata)
    report = DiagnosticReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate({table: real_df}, {table: synthetic_df}, metadata, verbose=False)
    return {"score": _score(report.get_score()), "properties": _properties(report)}


def fidelity(train_df, holdout_df, synthetic_df, metadata: dict[str, Any]) -> dict[str, Any]:
    """Quality and diagnostic of synthetic vs training rows, and holdout vs training as the attainable mark."""
    reference = quality(train_df, holdout_df, metadata) if holdout_df is not None and len(holdout_df) else None
    return {
        "quality": quality(train_df, synthetic_df, metadata),
        "diagnostic": diagnostic(train_df, synthetic_df, metadata),
        "holdout_quality": reference["score"] if reference else None,
    }
