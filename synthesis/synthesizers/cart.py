"""Sequential CART synthesis, as in synthpop (Nowok, Raab and Dibben, "synthpop: Bespoke Creation of
Synthetic Data in R", Journal of Statistical Software 74(11), 2016; Reiter, "Using CART to generate
partially synthetic public use microdata", Journal of Official Statistics 21(3), 2005).

The first column is drawn from its observed values. Each later column has a decision tree fitted on
the columns before it; a synthetic row walks that tree with its already drawn values and takes the
column's value from a random training row in the leaf it reaches. Leaves hold at least `min_leaf`
training rows, so every drawn value is shared by that many real people: this is the privacy guard
(leaves of 1 row copy training rows, see tests/synthesis/test_cart.py).
"""

from __future__ import annotations

import numpy as np
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from synthesis.synthesizers.base import CodedSynthesizer, CodedTable, TableModel


class LeafDonors:
    """The training values of one column grouped by the tree leaf their rows fall in.

    With `smooth`, a drawn number moves by Gaussian noise of its leaf's kernel bandwidth (Silverman's
    rule, as synthpop's smoothing="density"), so it is a plausible value of the leaf rather than one
    person's exact value. Only measurements with fractions are smoothed (weight, BMI): whole-number
    columns (counts, heights in cm) are discrete, their values shared by many people, and smoothing
    them would blur the spikes their shapes are made of. Categories are always drawn as they are.
    """

    def __init__(self, leaves: np.ndarray, values: np.ndarray, node_count: int, smooth: bool = False):
        order = np.argsort(leaves, kind="stable")
        self.values = values[order].astype(np.float32)
        ids, starts, counts = np.unique(leaves[order], return_index=True, return_counts=True)
        self.position = np.full(node_count, -1, dtype=np.int64)
        self.position[ids] = np.arange(len(ids))
        self.starts, self.counts = starts.astype(np.int64), counts.astype(np.int64)
        self.bandwidth = _bandwidths(self.values, self.starts, self.counts) if smooth else None
        self.low, self.high = float(values.min()), float(values.max())

    def draw(self, leaves: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        at = self.position[leaves]
        picks = self.starts[at] + (rng.random(len(leaves)) * self.counts[at]).astype(np.int64)
        drawn = self.values[picks]
        if self.bandwidth is None:
            return drawn
        return np.clip(drawn + self.bandwidth[at] * rng.standard_normal(len(leaves)), self.low, self.high)


def _bandwidths(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Silverman's bandwidth of each leaf's values: 0.9 min(sd, IQR/1.34) n^(-1/5)."""
    sums = np.add.reduceat(values.astype(np.float64), starts)
    squares = np.add.reduceat(values.astype(np.float64) ** 2, starts)
    sd = np.sqrt(np.maximum(squares / counts - (sums / counts) ** 2, 0))
    iqr = np.array([np.subtract(*np.percentile(values[s:s + c], [75, 25])) for s, c in zip(starts, counts)])
    spread = np.where(iqr > 0, np.minimum(sd, iqr / 1.34), sd)
    return (0.9 * spread * counts ** -0.2).astype(np.float32)


class SequentialTrees(TableModel):
    """The first column's values, then a tree and its leaves' donor values for each later column."""

    def __init__(self, min_leaf: int = 30, smoothing: bool = True, seed: int = 0):
        super().__init__(seed)
        self.min_leaf = min_leaf
        self.smoothing = smoothing

    def fit(self, table: CodedTable, matrix: np.ndarray) -> None:
        self.first = matrix[:, 0].copy()
        self.trees, self.donors = [], []
        for j in range(1, matrix.shape[1]):
            predictors = matrix[:, :j].astype(np.float32)
            categorical = table.is_categorical(table.columns[j])
            kind = DecisionTreeClassifier if categorical else DecisionTreeRegressor
            tree = kind(min_samples_leaf=self.min_leaf, random_state=0).fit(predictors, matrix[:, j])
            self.trees.append(tree.tree_)  # the fitted tree alone: apply() is all sampling needs
            self.donors.append(LeafDonors(tree.tree_.apply(predictors), matrix[:, j], tree.tree_.node_count,
                                          smooth=self.smoothing and not categorical
                                          and not np.all(np.mod(matrix[:, j], 1) == 0)))
        self.width = matrix.shape[1]

    def sample(self, num_rows: int) -> np.ndarray:
        out = np.empty((num_rows, self.width), dtype=np.float32)
        out[:, 0] = self.first[self.rng.integers(0, len(self.first), num_rows)]
        for j, (tree, donors) in enumerate(zip(self.trees, self.donors), start=1):
            out[:, j] = donors.draw(tree.apply(np.ascontiguousarray(out[:, :j])), self.rng)
        return out


class CARTSynthesizer(CodedSynthesizer):
    """Sequential CART (synthpop's default method) behind SDV's single-table interface."""

    def __init__(self, metadata, enforce_min_max_values=True, enforce_rounding=True, locales=["en_US"],
                 min_leaf=30, smoothing=True):
        super().__init__(metadata, enforce_min_max_values, enforce_rounding, locales)
        self.min_leaf = min_leaf
        self.smoothing = smoothing
        self._model = None

    def _make_model(self) -> TableModel:
        return SequentialTrees(self.min_leaf, self.smoothing)
