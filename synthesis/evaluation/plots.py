"""Plot data for the report page: per-column counts and association matrices, real (training) vs synthetic."""

from __future__ import annotations

from typing import Any

from synthesis.evaluation.schema import as_labels, as_numbers

MAX_BINS = 30
MAX_BARS = 20
MAX_MATRIX_COLUMNS = 40
MAX_MATRIX_ROWS = 20_000
OTHER = "(other)"


def bin_edges(values):
    """Bins for a real column: whole-number aligned for integer columns (no empty alias bins), else numpy's auto."""
    import numpy as np

    if not len(values):
        return np.array([0.0, 1.0])
    low, high = float(values.min()), float(values.max())
    if np.all(np.mod(values, 1) == 0):
        width = max(np.ceil((high - low + 1) / MAX_BINS), 1.0)
        return np.arange(low - 0.5, high + width, width)
    edges = np.histogram_bin_edges(values, bins="auto")
    return edges if len(edges) <= MAX_BINS + 1 else np.histogram_bin_edges(values, bins=MAX_BINS)


def numeric_counts(real, synthetic) -> dict[str, Any]:
    """Histogram counts of both sides on bins taken from the real column."""
    import numpy as np

    real, synthetic = as_numbers(real), as_numbers(synthetic)
    values = real.dropna().to_numpy()
    edges = bin_edges(values)
    synthetic_values = synthetic.dropna().to_numpy()
    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "real": [int(c) for c in np.histogram(values, edges)[0]],
        "synthetic": [int(c) for c in np.histogram(synthetic_values, edges)[0]],
        "synthetic_below": int((synthetic_values < edges[0]).sum()),
        "synthetic_above": int((synthetic_values > edges[-1]).sum()),
        "real_missing": int(real.isna().sum()),
        "synthetic_missing": int(synthetic.isna().sum()),
    }


def categorical_counts(real, synthetic) -> dict[str, Any]:
    """Bar counts per real category (the rarest folded into '(other)', as are labels real data lacks)."""
    real, synthetic = as_labels(real), as_labels(synthetic)
    frequent = real.value_counts()
    labels = sorted(frequent.index) if len(frequent) <= MAX_BARS else sorted(frequent.index[: MAX_BARS - 1])
    known = set(labels)
    real_folded = real.where(real.isin(known), OTHER).value_counts()
    synthetic_folded = synthetic.where(synthetic.isin(known), OTHER).value_counts()
    if real_folded.get(OTHER, 0) or synthetic_folded.get(OTHER, 0):
        labels.append(OTHER)
    return {
        "kind": "categorical",
        "labels": labels,
        "real": [int(real_folded.get(label, 0)) for label in labels],
        "synthetic": [int(synthetic_folded.get(label, 0)) for label in labels],
    }


def _pearson(x, y) -> float | None:
    import numpy as np

    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 2 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return None
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def _cramers_v(a, b) -> float | None:
    import numpy as np
    import pandas as pd

    table = pd.crosstab(a, b).to_numpy().astype(float)
    if min(table.shape) < 2:
        return None
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / table.sum() / (min(table.shape) - 1)))


def _correlation_ratio(labels, values) -> float | None:
    """Eta: how much of a number's variance the category explains (0..1)."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"label": labels.to_numpy(), "value": values.to_numpy()}).dropna()
    total = ((frame["value"] - frame["value"].mean()) ** 2).sum()
    if len(frame) < 2 or total == 0:
        return None
    groups = frame.groupby("label")["value"].agg(["mean", "count"])
    between = (groups["count"] * (groups["mean"] - frame["value"].mean()) ** 2).sum()
    return float(np.sqrt(between / total))


def association_matrix(df, numeric: list[str], categorical: list[str]) -> list[list[float | None]]:
    """Pearson r between numbers, Cramér's V between categories, correlation ratio across; 1 on the diagonal."""
    columns = [c for c in df.columns if c in numeric or c in categorical]
    numbers = {c: as_numbers(df[c]) for c in columns if c in numeric}
    labels = {c: as_labels(df[c]) for c in columns if c in categorical}
    matrix: list[list[float | None]] = [[None] * len(columns) for _ in columns]
    for i, a in enumerate(columns):
        matrix[i][i] = 1.0
        for j in range(i + 1, len(columns)):
            b = columns[j]
            if a in numbers and b in numbers:
                value = _pearson(numbers[a].to_numpy(), numbers[b].to_numpy())
            elif a in labels and b in labels:
                value = _cramers_v(labels[a], labels[b])
            else:
                value = _correlation_ratio(labels.get(a, labels.get(b)), numbers.get(a, numbers.get(b)))
            matrix[i][j] = matrix[j][i] = value
    return matrix


def plot_data(train_df, synthetic_df, numeric: list[str], categorical: list[str], seed: int = 0) -> dict[str, Any]:
    """Everything the report page draws, so the page needs neither the data nor the synthesizer."""
    columns = {}
    for name in train_df.columns:
        if name not in synthetic_df.columns:
            continue
        if name in numeric:
            columns[name] = numeric_counts(train_df[name], synthetic_df[name])
        elif name in categorical:
            columns[name] = categorical_counts(train_df[name], synthetic_df[name])
    matrix_columns = [c for c in columns][:MAX_MATRIX_COLUMNS]
    real = train_df[matrix_columns]
    synthetic = synthetic_df[matrix_columns]
    real = real.sample(n=min(len(real), MAX_MATRIX_ROWS), random_state=seed)
    synthetic = synthetic.sample(n=min(len(synthetic), MAX_MATRIX_ROWS), random_state=seed)
    return {
        "columns": columns,
        "associations": {
            "columns": matrix_columns,
            "measure": "Pearson r (number-number), Cramér's V (category-category), correlation ratio (mixed)",
            "real": association_matrix(real, numeric, categorical),
            "synthetic": association_matrix(synthetic, numeric, categorical),
            "truncated": len(columns) > MAX_MATRIX_COLUMNS,
        },
    }
