"""The vectorised RDT loops return exactly what RDT's own loops return; row-sampled fits keep the extremes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rdt.transformers.categorical import UniformEncoder
from rdt.transformers.numerical import ClusterBasedNormalizer

from tests.harness import ROOT
from synthesis import speedups
from synthesis.datasets import read_dataset
from synthesis.methods import MIN_SCALED_EPOCHS, REFERENCE_TRAINING_ROWS, ParameterError, default_epochs, get_method

DATASET = ROOT / "data" / "cvd_sample_3463.csv"


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    df = read_dataset(DATASET)
    big = pd.concat([df] * 6, ignore_index=True)  # about 20k rows: enough mixture components to matter
    return big


@pytest.fixture
def rdt_loops():
    """RDT's own methods during the test body; the vectorised ones only where the test installs them."""
    speedups.uninstall()
    yield
    speedups.uninstall()


def _both(transformer, frame: pd.DataFrame):
    transformer.reset_randomization()
    original = transformer.transform(frame.copy())
    speedups.install()
    try:
        transformer.reset_randomization()
        vectorised = transformer.transform(frame.copy())
    finally:
        speedups.uninstall()
    return original, vectorised


@pytest.mark.parametrize("missing_value_encoding", ["new_category", None])
@pytest.mark.parametrize("column", ["general_health", "age_category", "sex"])
def test_uniform_encoder_is_bit_identical(sample, rdt_loops, column, missing_value_encoding):
    values = sample[column].astype(object).copy()
    values.iloc[::37] = np.nan  # missing values take their own path in RDT
    encoder = UniformEncoder(missing_value_encoding=missing_value_encoding)
    encoder.fit(values.to_frame(), column)
    original, vectorised = _both(encoder, values.to_frame())
    pd.testing.assert_frame_equal(original, vectorised, check_exact=True)


def test_uniform_encoder_unseen_categories_follow_rdt(sample, rdt_loops):
    encoder = UniformEncoder()
    encoder.fit(sample[["sex"]], "sex")
    frame = pd.DataFrame({"sex": ["Female", "Male", "Other"] * 10})
    with pytest.warns(UserWarning, match="new categories"):
        original, vectorised = _both(encoder, frame)
    pd.testing.assert_frame_equal(original, vectorised, check_exact=True)


@pytest.mark.parametrize("column", ["bmi", "weight_kg", "alcohol_consumption", "fried_potato_consumption"])
def test_cluster_based_normalizer_is_bit_identical(sample, rdt_loops, column):
    values = sample[[column]].copy()
    values.iloc[::53, 0] = np.nan
    normalizer = ClusterBasedNormalizer(missing_value_generation="from_column", max_clusters=10,
                                        weight_threshold=0.005)
    normalizer.fit(values, column)
    original, vectorised = _both(normalizer, values)
    pd.testing.assert_frame_equal(original, vectorised, check_exact=True)


def test_install_is_idempotent_and_uninstall_restores(rdt_loops):
    own = UniformEncoder._transform, ClusterBasedNormalizer._transform
    speedups.install()
    speedups.install()
    assert UniformEncoder._transform is speedups._uniform_encoder_transform
    speedups.uninstall()
    assert (UniformEncoder._transform, ClusterBasedNormalizer._transform) == own


def test_row_sample_keeps_the_extremes_and_the_size():
    series = pd.Series(np.arange(100_000, dtype=float)[::-1])
    picked = speedups.row_sample(series, 1_000)
    assert 1_000 <= len(picked) <= 1_002
    assert picked.min() == 0 and picked.max() == 99_999
    assert picked.index.is_unique
    pd.testing.assert_series_equal(picked, speedups.row_sample(series, 1_000))  # seeded
    assert speedups.row_sample(series, 0) is series
    assert speedups.row_sample(series.head(10), 1_000) is not None


def test_row_sample_of_a_frame_with_missing_values():
    frame = pd.DataFrame({"x": [np.nan] * 50 + list(range(5_000))})
    picked = speedups.row_sample(frame, 100)
    assert picked["x"].max() == 4_999 and picked["x"].min() == 0


def test_row_sample_of_values_that_are_not_numbers():
    series = pd.Series(["a", "b", "c"] * 1_000)
    assert len(speedups.row_sample(series, 100)) == 100


def test_fit_on_row_sample_restores_the_fits():
    from copulas.multivariate.gaussian import GaussianMultivariate
    from ctgan.data_transformer import DataTransformer

    own = GaussianMultivariate._fit_column, DataTransformer._fit_continuous
    with speedups.fit_on_row_sample(1_000):
        assert GaussianMultivariate._fit_column is not own[0]
    assert (GaussianMultivariate._fit_column, DataTransformer._fit_continuous) == own
    with pytest.raises(RuntimeError):
        with speedups.fit_on_row_sample(1_000):
            raise RuntimeError("a failed fit")
    assert (GaussianMultivariate._fit_column, DataTransformer._fit_continuous) == own


def test_fit_on_row_sample_fits_marginals_on_the_sample(sample):
    from copulas.multivariate.gaussian import GaussianMultivariate

    seen: list[int] = []
    original = GaussianMultivariate._fit_column

    def spy(self, column, *args):
        seen.append(len(column))
        return original(self, column, *args)

    GaussianMultivariate._fit_column = spy
    try:
        with speedups.fit_on_row_sample(500):
            GaussianMultivariate(distribution="copulas.univariate.BetaUnivariate").fit(
                sample[["bmi", "weight_kg"]])
    finally:
        GaussianMultivariate._fit_column = original
    assert seen and all(n <= 502 for n in seen)


def test_default_epochs_scale_with_the_rows():
    ctgan = get_method("ctgan")
    assert default_epochs(get_method("gaussian_copula"), 10**6) is None
    assert default_epochs(ctgan, REFERENCE_TRAINING_ROWS) == ctgan.epochs
    assert default_epochs(ctgan, 100) == ctgan.epochs
    assert default_epochs(ctgan, 2 * REFERENCE_TRAINING_ROWS) == ctgan.epochs // 2
    assert default_epochs(ctgan, 247_083) == MIN_SCALED_EPOCHS
    assert default_epochs(ctgan, 10**9) == MIN_SCALED_EPOCHS


def test_fit_rows_is_validated():
    method = get_method("ctgan")
    assert method.check_parameters({"fit_rows": 0}) == {"fit_rows": 0}
    with pytest.raises(ParameterError, match="fit_rows"):
        method.check_parameters({"fit_rows": -1})
    with pytest.raises(ParameterError, match="fit_rows"):
        method.check_parameters({"fit_rows": "all"})
