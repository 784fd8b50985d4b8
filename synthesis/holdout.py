"""Holding real rows out of training, so synthetic data can be judged against rows the model never saw."""

from __future__ import annotations

DEFAULT_TARGET = "heart_disease"


def split_holdout(df, fraction: float = 0.2, seed: int = 0, target: str | None = DEFAULT_TARGET):
    """(train, holdout): a seeded split, stratified on `target` when the column exists and allows it."""
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ValueError(f"holdout fraction must be between 0 and 1, got {fraction}")
    stratify = None
    if target and target in df.columns:
        labels = df[target].astype("string").fillna("<missing>")
        counts = labels.value_counts()
        # stratifying needs every class twice and room for each class on both sides of the split
        if len(counts) > 1 and counts.min() >= 2 and round(len(df) * fraction) >= len(counts):
            stratify = labels
    train, holdout = train_test_split(df, test_size=fraction, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), holdout.reset_index(drop=True)
