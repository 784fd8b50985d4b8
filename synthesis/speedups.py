"""Vectorised stand-ins for two per-row Python loops in RDT, the transformers SDV fits before training.

At 308,854 rows these loops are most of the preprocessing time (see the README's training table):

- `UniformEncoder._transform` (GaussianCopula's categorical columns) draws one
  `np.random.uniform(low, high)` per row through `Series.map`: 7.4 million calls, about 23 s here.
- `ClusterBasedNormalizer._transform` (the mode-specific normalisation of CTGAN, TVAE and
  CopulaGAN's numeric columns) calls `np.random.choice(k, p=row)` per row: about 50 s here.

Each replacement draws the same random numbers from the same global generator in the same order
and applies the same arithmetic, so it returns exactly what the loop returns (tests/synthesis/
test_speedups.py compares them bit for bit). Anything outside the common path (unseen categories)
goes to RDT's own code. They are installed in the training processes only.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

_ORIGINALS: dict[str, object] = {}


def _uniform_encoder_transform(self, data):
    from rdt.transformers.utils import fill_nan_with_none

    if self.missing_value_encoding is not None:
        data = fill_nan_with_none(data)
    known = data.isin(self.frequencies)
    unseen = ~known if self.missing_value_encoding is not None else ~known & ~pd.isna(data)
    if unseen.any():  # RDT warns and assigns random categories: leave that rare path to RDT
        return _ORIGINALS["uniform"](self, data)
    result = pd.Series(np.nan, index=data.index, name=data.name, dtype=float)
    if known.any():
        labels = list(self.intervals)
        position = pd.Index(labels, dtype=object).get_indexer(data.loc[known].astype(object))
        low = np.array([self.intervals[label][0] for label in labels], dtype=float)[position]
        high = np.array([self.intervals[label][1] for label in labels], dtype=float)[position]
        # One draw per known row, in row order: what the per-row np.random.uniform calls draw.
        result.loc[known] = np.random.uniform(low, high)
    return result


def _cluster_normalizer_transform(self, data):
    from rdt.transformers.numerical import FloatFormatter

    data = FloatFormatter._transform(self, data)
    model_missing_values = None
    if data.ndim > 1:
        data, model_missing_values = data[:, 0], data[:, 1]

    data = data.reshape((len(data), 1))
    valid = self.valid_component_indicator
    means = self._bgm_transformer.means_.reshape((1, self.max_clusters))[:, valid]
    stds = np.sqrt(self._bgm_transformer.covariances_).reshape((1, self.max_clusters))[:, valid]
    normalized_values = (data - means) / (self.STD_MULTIPLIER * stds)
    probs = self._bgm_transformer.predict_proba(data)[:, valid] + 1e-6
    probs = probs / probs.sum(axis=1, keepdims=True)
    # np.random.choice(k, p=p) is cdf = cumsum(p) / cdf[-1]; u = random_sample(); searchsorted(cdf, u, 'right').
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    uniform = np.random.random_sample(len(data))
    selected_component = (cdf <= uniform[:, None]).sum(axis=1)

    normalized = normalized_values[np.arange(len(data)), selected_component]
    normalized = np.clip(normalized, -0.99, 0.99)
    rows = [normalized, selected_component]
    if self.null_transformer and self.null_transformer.models_missing_values():
        rows.append(model_missing_values)
    return np.stack(rows, axis=1)


def install() -> None:
    """Swap the per-row loops for the vectorised versions (idempotent)."""
    from rdt.transformers.categorical import UniformEncoder
    from rdt.transformers.numerical import ClusterBasedNormalizer

    if _ORIGINALS:
        return
    _ORIGINALS["uniform"] = UniformEncoder._transform
    _ORIGINALS["cluster"] = ClusterBasedNormalizer._transform
    UniformEncoder._transform = _uniform_encoder_transform
    ClusterBasedNormalizer._transform = _cluster_normalizer_transform


def uninstall() -> None:
    """Put RDT's own methods back (benchmarks compare both in one process)."""
    from rdt.transformers.categorical import UniformEncoder
    from rdt.transformers.numerical import ClusterBasedNormalizer

    if not _ORIGINALS:
        return
    UniformEncoder._transform = _ORIGINALS.pop("uniform")
    ClusterBasedNormalizer._transform = _ORIGINALS.pop("cluster")


# --- fitting marginals and mixtures on a row sample ----------------------------------------------
# Unlike the vectorised loops above, these change what is learned (a little): the per-column fits
# (GaussianCopula's marginals, CopulaGAN's Gaussian normaliser, CTGAN/TVAE's Bayesian GMMs) see a
# seeded sample of rows that always keeps each column's minimum and maximum. The copula's
# correlations, the networks and everything else still see every row. The README's training table
# gives quality with and without it.


def row_sample(data, max_rows: int, seed: int = 0):
    """At most max_rows rows of a Series or one-column DataFrame, keeping its minimum and maximum."""
    if not max_rows or len(data) <= max_rows:
        return data
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(data), size=max_rows, replace=False)
    try:
        values = np.asarray(data, dtype=float).reshape(len(data), -1)[:, 0]
    except (TypeError, ValueError):  # not numeric: no extremes to keep
        values = np.full(len(data), np.nan)
    extremes = [int(np.nanargmin(values)), int(np.nanargmax(values))] if not np.isnan(values).all() else []
    return data.iloc[np.unique(np.concatenate([picked, extremes]).astype(int))]


@contextlib.contextmanager
def fit_on_row_sample(max_rows: int | None):
    """While fitting, per-column distribution and mixture fits see at most max_rows rows (None/0: all)."""
    if not max_rows:
        yield
        return
    from copulas.multivariate.gaussian import GaussianMultivariate
    from ctgan.data_transformer import DataTransformer
    from rdt.transformers.numerical import GaussianNormalizer

    def sampled_column(original):
        return lambda self, column, *args: original(self, row_sample(column, max_rows), *args)

    def sampled_data(original):
        return lambda self, data: original(self, row_sample(data, max_rows))

    targets = [
        (GaussianMultivariate, "_fit_column", sampled_column),  # GaussianCopula's marginals
        (DataTransformer, "_fit_continuous", sampled_data),  # CTGAN/TVAE/CopulaGAN's per-column GMMs
        (GaussianNormalizer, "_fit", sampled_data),  # CopulaGAN's marginals
    ]
    saved = [(cls, name, getattr(cls, name)) for cls, name, _ in targets]
    for (cls, name, wrap), (_, _, original) in zip(targets, saved):
        setattr(cls, name, wrap(original))
    try:
        yield
    finally:
        for cls, name, original in saved:
            setattr(cls, name, original)
