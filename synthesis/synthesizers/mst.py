"""Differentially private synthesis from noisy marginals, after MST (McKenna, Miklau and Sheldon,
"Winning the NIST Contest: A scalable and general approach to differentially private synthetic
data", Journal of Privacy and Confidentiality 11(3), 2021).

The privacy budget (epsilon, delta) becomes a zCDP budget rho, split in three equal parts:
1. every column's counts are measured with Gaussian noise;
2. a maximum spanning tree of column pairs is chosen with the exponential mechanism, each pair
   scored by how far its real two-way counts are from what the noisy one-way counts predict;
3. the two-way counts of the chosen pairs are measured with Gaussian noise.
Rows are drawn along the tree: the root from its noisy counts, every other column given its parent
from the noisy pair counts (negatives set to 0). MST proper fits a graphical model to all the
measurements with private-pgm; drawing from the pair tables directly is the simpler step used here,
and like MST it touches the data only through the three noisy measurements.

Numbers are cut into `bins` equal-width bins and drawn uniformly within their bin. The column domain
(category labels, numeric ranges) is read from the data and treated as public, as the schema in the
manifest is: a release that must protect the domain too has to supply it from outside.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from synthesis.synthesizers.base import CodedSynthesizer, CodedTable, TableModel


def zcdp_rho(epsilon: float, delta: float) -> float:
    """The zCDP rho whose (epsilon, delta)-DP guarantee is the one asked for (Bun and Steinke 2016)."""
    log_term = math.log(1 / delta)
    return (math.sqrt(log_term + epsilon) - math.sqrt(log_term)) ** 2


class NoisyMarginalTree(TableModel):
    def __init__(self, epsilon=1.0, delta=1e-9, bins=10, seed=0):
        super().__init__(seed)
        self.epsilon, self.delta, self.bins = epsilon, delta, bins

    def _discretise(self, table: CodedTable, X: np.ndarray) -> np.ndarray:
        self.edges, self.sizes = [], []
        codes = np.empty(X.shape, dtype=np.int64)
        for j, column in enumerate(table.columns):
            if table.is_categorical(column):
                self.edges.append(None)
                self.sizes.append(len(table.categories[column]))
                codes[:, j] = X[:, j]
            else:
                low, high = float(X[:, j].min()), float(X[:, j].max())
                edges = np.linspace(low, high if high > low else low + 1, self.bins + 1)
                self.edges.append(edges)
                self.sizes.append(self.bins)
                codes[:, j] = np.clip(np.searchsorted(edges, X[:, j], side="right") - 1, 0, self.bins - 1)
        return codes

    def _counts(self, codes: np.ndarray, columns: tuple[int, ...]) -> np.ndarray:
        shape = tuple(self.sizes[c] for c in columns)
        flat = np.ravel_multi_index(tuple(codes[:, c] for c in columns), shape)
        return np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(float)

    def fit(self, table: CodedTable, X: np.ndarray) -> None:
        rng = np.random.default_rng()  # the noise must not be reproducible from the code
        codes = self._discretise(table, X)
        width = codes.shape[1]
        rho = zcdp_rho(self.epsilon, self.delta) / 3
        sigma = math.sqrt(width / (2 * rho))
        self.one_way = [self._counts(codes, (j,)) + rng.normal(0, sigma, self.sizes[j]) for j in range(width)]
        self.edges_chosen = self._select(codes, rho, rng) if width > 1 else []
        sigma = math.sqrt(max(len(self.edges_chosen), 1) / (2 * rho))
        self.two_way = {
            (a, b): self._counts(codes, (a, b)) + rng.normal(0, sigma, (self.sizes[a], self.sizes[b]))
            for a, b in self.edges_chosen
        }
        self._plan()

    def _select(self, codes: np.ndarray, rho: float, rng: np.random.Generator) -> list[tuple[int, int]]:
        """A spanning tree of column pairs, each edge chosen by the exponential mechanism."""
        width, n = codes.shape[1], len(codes)
        probability = [np.clip(c, 0, None) / max(np.clip(c, 0, None).sum(), 1) for c in self.one_way]
        score = {}
        for a, b in itertools.combinations(range(width), 2):
            independent = n * np.outer(probability[a], probability[b])
            score[a, b] = np.abs(self._counts(codes, (a, b)) - independent).sum()
        epsilon = math.sqrt(8 * rho / (width - 1))  # each of the width-1 choices spends rho/(width-1)
        component = list(range(width))

        def root(i):
            while component[i] != i:
                i = component[i]
            return i

        chosen = []
        for _ in range(width - 1):
            candidates = [e for e in score if root(e[0]) != root(e[1])]
            quality = np.array([score[e] for e in candidates])
            logits = epsilon * (quality - quality.max()) / 2  # sensitivity 1
            weights = np.exp(logits)
            a, b = candidates[rng.choice(len(candidates), p=weights / weights.sum())]
            component[root(a)] = root(b)
            chosen.append((a, b))
        return chosen

    def _plan(self) -> None:
        """Sampling order: a breadth-first walk of the tree from column 0, each column with its parent."""
        neighbours: dict[int, list[int]] = {j: [] for j in range(len(self.sizes))}
        for a, b in self.edges_chosen:
            neighbours[a].append(b)
            neighbours[b].append(a)
        self.order, seen = [], set()
        for start in range(len(self.sizes)):  # every column, also one the tree left out
            if start in seen:
                continue
            queue, seen = [(start, None)], seen | {start}
            while queue:
                node, parent = queue.pop(0)
                self.order.append((node, parent))
                for nxt in neighbours[node]:
                    if nxt not in seen:
                        seen.add(nxt)
                        queue.append((nxt, node))
        self.tables = {}
        for node, parent in self.order:
            marginal = np.clip(self.one_way[node], 0, None) + 1e-12
            if parent is None:
                self.tables[node] = np.cumsum(marginal / marginal.sum())
                continue
            joint = self.two_way.get((parent, node))
            joint = joint if joint is not None else self.two_way[(node, parent)].T
            joint = np.clip(joint, 0, None)
            empty = joint.sum(1) <= 0
            joint[empty] = marginal  # a parent value with no mass left: the column's own counts
            self.tables[node] = np.cumsum(joint / joint.sum(1, keepdims=True), 1)

    def sample(self, num_rows: int) -> np.ndarray:
        rng = self.rng
        codes = np.empty((num_rows, len(self.sizes)), dtype=np.int64)
        for node, parent in self.order:
            table = self.tables[node]
            u = rng.random(num_rows)
            cumulative = table[None, :] if parent is None else table[codes[:, parent]]
            codes[:, node] = (cumulative <= u[:, None]).sum(1).clip(max=self.sizes[node] - 1)
        out = codes.astype(float)
        for j, edges in enumerate(self.edges):
            if edges is not None:
                out[:, j] = edges[codes[:, j]] + rng.random(num_rows) * (edges[1] - edges[0])
        return out


class MSTSynthesizer(CodedSynthesizer):
    """Differentially private noisy-marginal synthesis (MST's measurements) behind SDV's interface."""

    def __init__(self, metadata, enforce_min_max_values=True, enforce_rounding=True, locales=["en_US"],
                 epsilon=1.0, delta=1e-9, bins=10):
        super().__init__(metadata, enforce_min_max_values, enforce_rounding, locales)
        self.epsilon, self.delta, self.bins = epsilon, delta, bins
        self._model = None

    def _make_model(self) -> TableModel:
        return NoisyMarginalTree(self.epsilon, self.delta, self.bins)
