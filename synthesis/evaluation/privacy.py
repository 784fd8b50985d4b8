"""Privacy: how many synthetic rows copy real ones, and whether they sit closer to training rows than to unseen rows."""

from __future__ import annotations

from typing import Any

from synthesis.evaluation.schema import as_labels, as_numbers

MAX_SYNTHETIC_ROWS = 5_000
DCR_SHARE_LIMIT = 0.6
IDENTICAL_RATIO_LIMIT = 2.0
# Copies of training rows are flagged only when chance cannot explain them: the count matched against a
# holdout-sized slice must be improbable (Poisson, below this p) at the rate the holdout's copies show
# (at least half a row). One coincidental match in 50,000 rows is not a leak; five with none in the holdout are.
IDENTICAL_CHANCE_P = 0.001
# Rarer categories share an all-zero code: two different rare labels then look equal, which errs towards
# "too close" (the cautious side for privacy) and keeps the one-hot matrix small on wide, high-cardinality tables.
MAX_ONE_HOT = 200


def row_hashes(df, numeric: list[str], columns: list[str]):
    """One 64-bit hash per row; numbers are rounded so 1.0 and 1.0000000001 count as the same value."""
    import pandas as pd

    normalised = pd.DataFrame(
        {c: as_numbers(df[c]).round(6).astype("string").fillna("<missing>") if c in numeric else as_labels(df[c])
         for c in columns}
    )
    return pd.util.hash_pandas_object(normalised, index=False)


def identical_share(rows, reference) -> float:
    """Share of rows (hashes) that also occur among the reference hashes."""
    return float(rows.isin(set(reference)).mean()) if len(rows) else 0.0


class GowerSpace:
    """Rows as vectors whose Manhattan distance divided by the column count is the Gower distance."""

    def __init__(self, train_df, numeric: list[str], categorical: list[str]):
        self.numeric, self.categorical = numeric, categorical
        values = {c: as_numbers(train_df[c]).dropna() for c in numeric}
        self.low = {c: float(v.min()) if len(v) else 0.0 for c, v in values.items()}
        self.span = {c: float(v.max() - v.min()) if len(v) else 0.0 for c, v in values.items()}
        self.span = {c: span or 1.0 for c, span in self.span.items()}
        self.middle = {c: (float(v.median()) - self.low[c]) / self.span[c] if len(v) else 0.0 for c, v in values.items()}
        self.categories = {c: list(as_labels(train_df[c]).value_counts().index[:MAX_ONE_HOT]) for c in categorical}
        self.width = max(len(numeric) + len(categorical), 1)

    def vectors(self, df):
        import numpy as np

        parts = []
        for c in self.numeric:  # a missing number sits at the training median
            scaled = ((as_numbers(df[c]) - self.low[c]) / self.span[c]).fillna(self.middle[c])
            parts.append(scaled.to_numpy()[:, None])
        for c in self.categorical:  # half per one-hot column: a mismatch costs 1, a label unseen in training 0.5
            labels = as_labels(df[c]).to_numpy()
            parts.append(0.5 * (labels[:, None] == np.array(self.categories[c])[None, :]))
        return np.hstack(parts) / self.width if parts else np.zeros((len(df), 1))

    def closest(self, rows, reference):
        """Distance from each row to its nearest reference row."""
        from sklearn.neighbors import NearestNeighbors

        index = NearestNeighbors(n_neighbors=1, metric="manhattan").fit(self.vectors(reference))
        return index.kneighbors(self.vectors(rows))[0][:, 0]


def holdout_sized_chunks(n_train: int, n_holdout: int, seed: int):
    """Disjoint, shuffled slices of the training positions, each exactly as large as the holdout.

    Exactly: the distance to the nearest of N rows shrinks as N grows, so a slice even 25% larger than
    the holdout (50,000 capped training rows cut in two against 20,000 holdout rows) makes rows that
    never saw either side read closer to training. The training rows left over are not compared.
    """
    import numpy as np

    order = np.random.default_rng(seed).permutation(n_train)
    size = max(min(n_holdout, n_train), 1)
    return [np.sort(order[start:start + size]) for start in range(0, n_train - size + 1, size)]


def privacy(train_df, holdout_df, synthetic_df, numeric: list[str], categorical: list[str], seed: int):
    """Identical-row shares, distances to closest records (DCR), the DCR share, and flags with reasons."""
    import numpy as np

    columns = [c for c in train_df.columns if c in synthetic_df.columns]
    numeric = [c for c in numeric if c in columns]
    categorical = [c for c in categorical if c in columns]
    train_hashes = row_hashes(train_df, numeric, columns)
    synthetic_hashes = row_hashes(synthetic_df, numeric, columns)
    holdout_hashes = row_hashes(holdout_df, numeric, columns)
    # Training is usually larger than the holdout, which alone makes a synthetic row likelier to be near (or equal
    # to) some training row. Comparing against training slices as large as the holdout, averaged over the slices,
    # makes "no closer to training than to unseen rows" read 0.5 (DCR share) and equal identical shares.
    # The price: with a 20% holdout, rows copied from anywhere in training score about 0.625 (each copy beats the
    # holdout in one slice of four), so DCR_SHARE_LIMIT catches wholesale copying, and exact copies also raise
    # the identical-row flag.
    chunks = holdout_sized_chunks(len(train_df), len(holdout_df), seed)
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(synthetic_df), min(len(synthetic_df), MAX_SYNTHETIC_ROWS), replace=False))
    rows = synthetic_df.iloc[picked]
    space = GowerSpace(train_df, numeric, categorical)
    to_holdout = space.closest(rows, holdout_df)
    closer_shares = []
    for chunk in chunks:
        to_chunk = space.closest(rows, train_df.iloc[chunk])
        ties = np.isclose(to_chunk, to_holdout, rtol=0, atol=1e-12)
        closer_shares.append(np.mean(np.where(ties, 0.5, to_chunk < to_holdout)))
    to_train = space.closest(rows, train_df)
    out: dict[str, Any] = {
        "identical_to_training": identical_share(synthetic_hashes, train_hashes),
        "identical_to_training_matched": float(
            np.mean([identical_share(synthetic_hashes, train_hashes.iloc[chunk]) for chunk in chunks])
        ),
        "identical_to_holdout": identical_share(synthetic_hashes, holdout_hashes),
        "synthetic_rows": int(len(synthetic_df)),
        "real_holdout_identical_to_training": identical_share(holdout_hashes, train_hashes),
        "training_slices": len(chunks),
        "distance": "gower (numbers min-max scaled on training ranges, categories 0/1)",
        "dcr_rows": int(len(rows)),
        "dcr_share": float(np.mean(closer_shares)),
        "dcr_training_median": float(np.median(to_train)),
        "dcr_training_p05": float(np.percentile(to_train, 5)),
        "dcr_holdout_median": float(np.median(to_holdout)),
        "real_holdout_dcr_training_median": float(np.median(space.closest(holdout_df, train_df))),
    }
    out["flags"] = privacy_flags(out)
    out["flagged"] = bool(out["flags"])
    return out


def _beyond_chance(copies: float, expected: float) -> bool:
    from scipy.stats import poisson

    return bool(poisson.sf(round(copies) - 1, max(expected, 0.5)) < IDENTICAL_CHANCE_P)


def privacy_flags(figures: dict[str, Any]) -> list[str]:
    """Reasons to look closer at a model's privacy; empty when nothing stands out."""
    reasons = []
    if figures["dcr_share"] > DCR_SHARE_LIMIT:
        reasons.append(
            f"{figures['dcr_share']:.0%} of synthetic rows are closer to training rows than to holdout rows "
            f"(more than {DCR_SHARE_LIMIT:.0%}; 50% is what unseen real rows would give)"
        )
    matched, holdout = figures["identical_to_training_matched"], figures["identical_to_holdout"]
    rows = figures["synthetic_rows"]
    if matched > 0 and matched > IDENTICAL_RATIO_LIMIT * holdout and _beyond_chance(matched * rows, holdout * rows):
        reasons.append(
            f"{matched:.2%} of synthetic rows ({matched * rows:.0f} of {rows}) equal a training row but only "
            f"{holdout:.2%} ({holdout * rows:.0f}) equal a holdout row (against training slices of the holdout's size)"
        )
    return reasons
