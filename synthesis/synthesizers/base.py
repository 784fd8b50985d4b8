"""What this project's own synthesizers share: SDV's data handling around a model that sees coded columns.

SDV's `BaseSingleTableSynthesizer` does the work around a model: column detection, numeric formats and
rounding, min/max enforcement, missing values, saving, `load_synthesizer`, seeds and conditional
sampling by rejection. A subclass brings a `TableModel` that learns from the processed table with
categories as integer codes and numbers as floats, and draws new rows in the same form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sdv.single_table.base import BaseSingleTableSynthesizer


@dataclass
class CodedTable:
    """A table as one float matrix: integer codes for categorical columns, values for numeric ones."""

    columns: list[str]
    categories: dict[str, np.ndarray]  # categorical column -> its labels (object array, NaN included)

    @classmethod
    def learn(cls, df: pd.DataFrame) -> "CodedTable":
        categories = {}
        for column in df.columns:
            if not pd.api.types.is_numeric_dtype(df[column]) or pd.api.types.is_bool_dtype(df[column]):
                labels = pd.unique(df[column])
                # a stable order: sorted labels, a missing value last
                present = sorted((v for v in labels if not pd.isna(v)), key=str)
                if len(present) < len(labels):
                    present.append(np.nan)
                categories[column] = np.array(present, dtype=object)
        return cls(list(df.columns), categories)

    def is_categorical(self, column: str) -> bool:
        return column in self.categories

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(df), len(self.columns)), dtype=float)
        for j, column in enumerate(self.columns):
            if column in self.categories:
                labels = self.categories[column]
                codes = pd.Index(labels[~pd.isna(labels)]).get_indexer(df[column].to_numpy(dtype=object))
                if pd.isna(labels[-1]):
                    codes = np.where(pd.isna(df[column]).to_numpy(), len(labels) - 1, codes)
                out[:, j] = codes
            else:
                out[:, j] = df[column].to_numpy(dtype=float)
        return out

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        data = {}
        for j, column in enumerate(self.columns):
            if column in self.categories:
                data[column] = self.categories[column][matrix[:, j].astype(np.int64)]
            else:
                data[column] = matrix[:, j]
        return pd.DataFrame(data)


class TableModel:
    """A model over a CodedTable: fit(matrix) once, then sample(n) with its own generator."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def set_random_state(self, random_state) -> None:
        """SDV calls this with an int seed (or None): the next samples depend on it alone."""
        if isinstance(random_state, (tuple, list)):  # SDV may hand (numpy RandomState, torch Generator)
            random_state = random_state[0]
        if isinstance(random_state, np.random.RandomState):
            random_state = random_state.randint(0, 2**31 - 1)
        self.rng = np.random.default_rng(random_state)

    def fit(self, table: CodedTable, matrix: np.ndarray) -> None:
        raise NotImplementedError

    def sample(self, num_rows: int) -> np.ndarray:
        raise NotImplementedError


class CodedSynthesizer(BaseSingleTableSynthesizer):
    """SDV's single-table synthesizer around a TableModel; categorical columns reach it as labels."""

    # Categories stay labels through SDV's preprocessing (as CTGAN's do); CodedTable turns them into codes.
    _model_sdtype_transformers = {"categorical": None, "boolean": None, "ordinal": None}

    def _make_model(self) -> TableModel:
        raise NotImplementedError

    def _fit(self, processed_data: pd.DataFrame) -> None:
        self._table = CodedTable.learn(processed_data)
        self._model = self._make_model()
        self._model.fit(self._table, self._table.encode(processed_data))

    def _sample(self, num_rows: int, conditions=None) -> pd.DataFrame:
        if conditions is not None:
            raise NotImplementedError  # SDV then samples freely and keeps the rows that match (exact)
        return self._table.decode(self._model.sample(num_rows))
