"""Utility: does a classifier trained on synthetic rows predict the real holdout as well as one trained on real rows?"""

from __future__ import annotations

from typing import Any

from synthesis.evaluation.schema import as_labels, as_numbers

# On this survey, logistic regression beat gradient boosting on holdout AUC (0.77-0.83 vs 0.69-0.81) and is faster.
CLASSIFIER = "LogisticRegression(max_iter=1000) on scaled numbers and one-hot categories"
MAX_CLASSES = 20  # a target with more distinct values is a number to regress, not classes to rank


def _features(df, numeric: list[str], categorical: list[str]):
    import pandas as pd

    return pd.DataFrame(
        {**{c: as_numbers(df[c]) for c in numeric}, **{c: as_labels(df[c]) for c in categorical}}, index=df.index
    )


def _classifier(numeric: list[str], categorical: list[str], seed: int):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("categories", OneHotEncoder(handle_unknown="ignore", min_frequency=5), categorical),
        ]
    )
    return make_pipeline(columns, LogisticRegression(max_iter=1000, random_state=seed))


def _auc(fit_df, test_df, numeric, categorical, target: str, classes: list[str], seed: int) -> float:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    model = _classifier(numeric, categorical, seed)
    model.fit(_features(fit_df, numeric, categorical), as_labels(fit_df[target]).to_numpy())
    proba = model.predict_proba(_features(test_df, numeric, categorical))
    # a class the fitting rows lacked gets probability 0, so every class has a column
    full = np.zeros((len(test_df), len(classes)))
    for k, label in enumerate(model.classes_):
        if label in classes:
            full[:, classes.index(label)] = proba[:, k]
    truth = as_labels(test_df[target]).to_numpy()
    if len(classes) == 2:
        return float(roc_auc_score(truth == classes[1], full[:, 1]))
    present = [c for c in classes if (truth == c).any()]
    full = full[:, [classes.index(c) for c in present]]
    full = full / np.clip(full.sum(axis=1, keepdims=True), 1e-12, None)
    return float(roc_auc_score(truth, full, multi_class="ovr", labels=present))


def _unusable(reason: str, **extra) -> dict[str, Any]:
    return {"tstr_auc": None, "trtr_auc": None, "ratio": None, "reason": reason, **extra}


def utility(train_df, holdout_df, synthetic_df, numeric: list[str], categorical: list[str], target: str, seed: int):
    """TSTR and TRTR ROC AUC on the holdout, and their ratio; None with a reason when they cannot be measured."""
    if target not in train_df.columns or target not in synthetic_df.columns:
        return _unusable(f"target column {target!r} is not in the data")
    real_labels = as_labels(train_df[target])
    if real_labels.nunique() > MAX_CLASSES:
        return _unusable(f"target {target!r} has more than {MAX_CLASSES} distinct values; AUC needs classes")
    counts = real_labels.value_counts()
    classes = sorted(counts.index) if len(counts) > 2 else [counts.index[0], counts.index[-1]]  # positive: rarer
    base = {"target": target, "classifier": CLASSIFIER, "metric": "roc_auc"}
    if len(classes) == 2:
        base["positive_class"] = classes[1]
    if len(classes) < 2 or as_labels(holdout_df[target]).nunique() < 2:
        return _unusable("the real rows hold a single class of the target", **base)
    numeric = [c for c in numeric if c != target and c in synthetic_df.columns]
    categorical = [c for c in categorical if c != target and c in synthetic_df.columns]
    trtr = _auc(train_df, holdout_df, numeric, categorical, target, classes, seed)
    synthetic_rows = synthetic_df[synthetic_df[target].notna()]
    if as_labels(synthetic_rows[target]).nunique() < 2:
        return {**_unusable("synthetic rows hold fewer than 2 classes of the target", **base), "trtr_auc": trtr}
    tstr = _auc(synthetic_rows, holdout_df, numeric, categorical, target, classes, seed)
    return {**base, "tstr_auc": tstr, "trtr_auc": trtr, "ratio": tstr / trtr if trtr else None, "reason": None}
