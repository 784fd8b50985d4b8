"""This project's synthesizers (CART, ARF, MST) behave like SDV's: fit, seeded sampling, conditions,
saving and loading with sdv.utils.load_synthesizer; CART's leaf size is its privacy guard."""

from __future__ import annotations

import functools
import math

import pandas as pd
import pytest
from sdv.metadata import Metadata
from sdv.utils import load_synthesizer

from synthesis.conditions import sample_conditioned
from synthesis.datasets import read_dataset
from synthesis.evaluation import evaluate
from synthesis.holdout import split_holdout
from synthesis.quality import evaluate_fit, sample_rows
from synthesis.synthesizers.arf import ARFSynthesizer
from synthesis.synthesizers.cart import CARTSynthesizer
from synthesis.synthesizers.mst import MSTSynthesizer, zcdp_rho
from tests.evaluation_case import DATASET

CLASSES = {"cart": CARTSynthesizer, "arf": ARFSynthesizer, "mst": MSTSynthesizer}


@functools.lru_cache(maxsize=1)
def split():
    train, holdout = split_holdout(read_dataset(DATASET), fraction=0.2, seed=0)
    return train, holdout, Metadata.detect_from_dataframes({"records": train})


@functools.lru_cache(maxsize=None)
def fitted(name: str, **parameters):
    train, _, metadata = split()
    synthesizer = CLASSES[name](metadata, **parameters)
    synthesizer.fit({"records": train})
    return synthesizer


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_rows_have_the_real_columns_categories_and_ranges(name):
    train, _, _ = split()
    rows = sample_rows(fitted(name), 2000, 0)
    assert list(rows.columns) == list(train.columns) and len(rows) == 2000
    for column in train.columns:
        if train[column].dtype == object:
            assert set(rows[column].dropna()) <= set(train[column].dropna()), column
        else:
            assert train[column].min() <= rows[column].min() and rows[column].max() <= train[column].max(), column


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_the_same_seed_gives_the_same_rows_and_another_seed_others(name):
    synthesizer = fitted(name)
    first, again, other = (sample_rows(synthesizer, 500, seed) for seed in (7, 7, 8))
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_conditions_are_met_exactly(name):
    synthesizer = fitted(name)
    synthesizer.reset_sampling()
    synthesizer._set_random_state(3)
    rows = sample_conditioned(synthesizer, 300, {"heart_disease": "Yes", "sex": "Female"})
    assert len(rows) == 300
    assert set(rows["heart_disease"]) == {"Yes"} and set(rows["sex"]) == {"Female"}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_saved_model_loads_with_sdv_and_samples_the_same_rows(name, tmp_path):
    synthesizer = fitted(name)
    synthesizer.save(str(tmp_path / "synthesizer.pkl"))
    loaded = load_synthesizer(str(tmp_path / "synthesizer.pkl"))
    pd.testing.assert_frame_equal(sample_rows(loaded, 300, 5), sample_rows(synthesizer, 300, 5))


def test_cart_keeps_the_link_between_risk_factors_and_heart_disease():
    """The point of the default: a classifier trained on its rows ranks real patients almost as well."""
    train, holdout, metadata = split()
    report = evaluate(train, holdout, sample_rows(fitted("cart"), len(train), 0), metadata, full=False)
    assert report["utility"]["ratio"] >= 0.9, report["utility"]
    assert report["privacy"]["flagged"] is False, report["privacy"]["flags"]


def test_cart_with_leaves_of_one_row_copies_training_rows_and_is_flagged():
    """Leaves of a single row hand out whole training rows: the privacy flag must catch it."""
    train, holdout, metadata = split()
    report = evaluate(train, holdout, sample_rows(fitted("cart", min_leaf=1), len(train), 0), metadata, full=False)
    privacy = report["privacy"]
    assert privacy["identical_to_training"] > privacy["identical_to_holdout"]
    assert privacy["flagged"] is True, privacy


def test_evaluation_repeats_on_three_training_sized_synthetic_sets():
    train, holdout, metadata = split()
    report = evaluate_fit(fitted("cart"), metadata, train, holdout, "heart_disease", keep_bmi_rule=True)
    seeds = report["seeds"]
    assert seeds["seeds"] == [0, 1, 2] and seeds["synthetic_rows"] == len(train) == report["rows"]["synthetic"]
    quality = seeds["figures"]["quality_score"]
    assert len(quality["values"]) == 3 and len(set(quality["values"])) == 3  # three different draws
    assert quality["min"] <= quality["mean"] <= quality["max"] and quality["std"] > 0
    assert quality["values"][0] == report["fidelity"]["quality"]["score"]  # the detailed report is seed 0's


def test_zcdp_budget_gives_back_the_epsilon_asked_for():
    for epsilon, delta in ((0.1, 1e-9), (1.0, 1e-9), (10.0, 1e-6)):
        rho = zcdp_rho(epsilon, delta)
        assert math.isclose(rho + 2 * math.sqrt(rho * math.log(1 / delta)), epsilon, rel_tol=1e-9)


def test_mst_noise_grows_as_epsilon_shrinks():
    """The price of privacy is fidelity: at epsilon 0.05 the one-way counts are far noisier than at 50."""
    train, _, _ = split()

    def count_error(epsilon: float) -> float:
        model = fitted("mst", epsilon=epsilon)._model
        true = train["sex"].value_counts().sort_index().to_numpy()
        sex = list(model_columns(model)).index("sex")
        return float(abs(model.one_way[sex] - true).sum())

    assert count_error(0.05) > 5 * count_error(50.0)


def model_columns(model):
    return fitted("mst")._table.columns


def test_cart_smooths_measurements_and_keeps_whole_number_columns_exact():
    """Smoothing: a drawn weight is not one person's exact weight; counts and heights stay real values."""
    train, _, _ = split()
    smoothed = sample_rows(fitted("cart"), 2000, 0)
    exact = sample_rows(fitted("cart", smoothing=False), 2000, 0)
    assert exact["weight_kg"].isin(train["weight_kg"]).all()
    assert smoothed["weight_kg"].isin(train["weight_kg"]).mean() < 0.5
    for column in ("height_cm", "fruit_consumption"):
        assert smoothed[column].isin(train[column]).all(), column
