"""Adversarial random forests (Watson, Blesch, Kapar and Wright, "Adversarial random forests for
density estimation and generative modeling", AISTATS 2023), with the FORDE/FORGE steps of the paper.

1. A random forest learns to tell real rows from rows whose columns were drawn independently. Rows
   are then drawn from the forest itself (a leaf, then each column from real rows of that leaf) and
   the forest is fitted again, until it tells them apart no better than `1/2 + delta` (out of bag)
   or `max_iters` rounds have passed. Within each leaf the columns are then close to independent.
2. FORDE: every leaf keeps its coverage (its share of real rows) and, per column, a truncated
   normal (mean, spread and range of its real values) or the category frequencies.
3. FORGE: a new row picks a tree, a leaf by coverage, and draws each column from the leaf's
   distribution independently.

Leaves hold at least `min_node_size` real rows. On large tables the forest learns from a seeded
sample of at most `max_fit_rows` rows, which bounds the model's size (about 20 floats per leaf and
column).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri
from sklearn.ensemble import RandomForestClassifier

from synthesis.synthesizers.base import CodedSynthesizer, CodedTable, TableModel


class Leaves:
    """Real rows grouped by (tree, leaf): a global leaf number per row and each group's span."""

    def __init__(self, forest: RandomForestClassifier, X: np.ndarray):
        per_tree = forest.apply(X.astype(np.float32))  # (rows, trees)
        n, trees = per_tree.shape
        offsets = np.concatenate([[0], np.cumsum([e.tree_.node_count for e in forest.estimators_])[:-1]])
        node = (per_tree + offsets).T.ravel()  # tree-major: every tree sees every row once
        ids, self.leaf = np.unique(node, return_inverse=True)
        self.rows = np.tile(np.arange(n), trees)
        self.order = np.argsort(self.leaf, kind="stable")
        self.count = np.bincount(self.leaf, minlength=len(ids))
        self.start = np.concatenate([[0], np.cumsum(self.count)[:-1]])
        self.size = len(ids)

    def draw_rows(self, leaves: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random real row from each given leaf."""
        picks = self.start[leaves] + (rng.random(len(leaves)) * self.count[leaves]).astype(np.int64)
        return self.rows[self.order[picks]]


class AdversarialForest(TableModel):
    def __init__(self, num_trees=20, min_node_size=5, delta=0.0, max_iters=10, max_fit_rows=50_000, seed=0):
        super().__init__(seed)
        self.num_trees, self.min_node_size, self.delta = num_trees, min_node_size, delta
        self.max_iters, self.max_fit_rows = max_iters, max_fit_rows

    def _forest(self, round_: int) -> RandomForestClassifier:
        return RandomForestClassifier(self.num_trees, min_samples_leaf=self.min_node_size, oob_score=True,
                                      n_jobs=-1, random_state=round_)

    def fit(self, table: CodedTable, X: np.ndarray) -> None:
        rng = np.random.default_rng(0)
        if self.max_fit_rows and len(X) > self.max_fit_rows:
            X = X[np.sort(rng.choice(len(X), self.max_fit_rows, replace=False))]
        n, width = X.shape
        # round 0: every column drawn independently from its real values
        fake = np.column_stack([X[rng.integers(0, n, n), j] for j in range(width)])
        self.rounds = []
        for round_ in range(self.max_iters):
            forest = self._forest(round_).fit(np.vstack([X, fake]), np.r_[np.ones(n), np.zeros(n)])
            self.rounds.append(float(forest.oob_score_))
            leaves = Leaves(forest, X)
            if forest.oob_score_ <= 0.5 + self.delta or round_ == self.max_iters - 1:
                break
            chosen = leaves.leaf[rng.integers(0, len(leaves.leaf), n)]  # a leaf by coverage
            fake = np.column_stack([X[leaves.draw_rows(chosen, rng), j] for j in range(width)])
        self._learn_leaves(table, X, leaves)

    def _learn_leaves(self, table: CodedTable, X: np.ndarray, leaves: Leaves) -> None:
        """FORDE: coverage and per-column distributions of every leaf."""
        g, values = leaves.leaf, X[leaves.rows]
        self.coverage = np.cumsum(leaves.count / leaves.count.sum())
        self.columns = []
        for j, column in enumerate(table.columns):
            v = values[:, j]
            if table.is_categorical(column):
                k = len(table.categories[column])
                counts = np.bincount(g * k + v.astype(np.int64), minlength=leaves.size * k).reshape(-1, k)
                self.columns.append(("categorical", np.cumsum(counts / counts.sum(1, keepdims=True), 1)
                                     .astype(np.float32)))
            else:
                mean = np.bincount(g, v, leaves.size) / leaves.count
                var = np.maximum(np.bincount(g, v * v, leaves.size) / leaves.count - mean**2, 0)
                ordered = v[leaves.order]
                low = np.minimum.reduceat(ordered, leaves.start)
                high = np.maximum.reduceat(ordered, leaves.start)
                self.columns.append(("numeric", np.stack([mean, np.sqrt(var), low, high]).astype(np.float64)))

    def sample(self, num_rows: int) -> np.ndarray:
        rng = self.rng
        leaf = np.minimum(np.searchsorted(self.coverage, rng.random(num_rows), side="right"), len(self.coverage) - 1)
        out = np.empty((num_rows, len(self.columns)))
        for j, (kind, params) in enumerate(self.columns):
            u = rng.random(num_rows)
            if kind == "categorical":
                out[:, j] = (params[leaf] <= u[:, None]).sum(1).clip(max=params.shape[1] - 1)
                continue
            mean, sd, low, high = params[:, leaf]
            flat = sd <= 0
            sd = np.where(flat, 1.0, sd)
            a, b = ndtr((low - mean) / sd), ndtr((high - mean) / sd)
            drawn = mean + sd * ndtri(np.clip(a + u * (b - a), 1e-12, 1 - 1e-12))
            out[:, j] = np.where(flat, mean, np.clip(drawn, low, high))
        return out


class ARFSynthesizer(CodedSynthesizer):
    """Adversarial random forests behind SDV's single-table interface."""

    def __init__(self, metadata, enforce_min_max_values=True, enforce_rounding=True, locales=["en_US"],
                 num_trees=20, min_node_size=5, delta=0.0, max_iters=10, max_fit_rows=50_000):
        super().__init__(metadata, enforce_min_max_values, enforce_rounding, locales)
        self.num_trees, self.min_node_size, self.delta = num_trees, min_node_size, delta
        self.max_iters, self.max_fit_rows = max_iters, max_fit_rows
        self._model = None

    def _make_model(self) -> TableModel:
        return AdversarialForest(self.num_trees, self.min_node_size, self.delta, self.max_iters, self.max_fit_rows)
