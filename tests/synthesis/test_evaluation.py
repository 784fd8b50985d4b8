"""Evaluation after training: scores in range, TSTR next to TRTR, privacy flags that trigger on copies, the bmi rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthesis.datasets import read_dataset
from synthesis.evaluation import evaluate
from synthesis.holdout import split_holdout
from synthesis.rules import apply_bmi_rule, bmi_off_share
from tests.evaluation_case import DATASET, evaluated_sample


@pytest.fixture(scope="module")
def case():
    return evaluated_sample()


def in_unit_range(value) -> bool:
    return value is not None and 0.0 <= value <= 1.0


def test_holdout_is_a_seeded_stratified_fifth(case):
    assert (len(case.train), len(case.holdout)) == (2770, 693)
    train_yes = (case.train["heart_disease"] == "Yes").mean()
    holdout_yes = (case.holdout["heart_disease"] == "Yes").mean()
    assert abs(train_yes - holdout_yes) < 0.005
    dataset = read_dataset(DATASET)
    assert split_holdout(dataset, seed=0)[0].equals(case.train)
    assert not split_holdout(dataset, seed=1)[0].equals(case.train)


def test_report_is_plain_json(case):
    assert json.loads(json.dumps(case.report, allow_nan=False)) == case.report
    assert case.report["rows"] == {"train": 2770, "holdout": 693, "synthetic": 693}
    assert set(case.report["seconds"]) >= {"fidelity", "utility", "privacy", "plots", "total"}


def test_fidelity_scores_are_in_range(case):
    quality = case.report["fidelity"]["quality"]
    assert in_unit_range(quality["score"])
    assert set(quality["properties"]) == {"Column Shapes", "Column Pair Trends"}
    assert all(in_unit_range(v) for v in quality["properties"].values())
    assert set(quality["column_shapes"]) == set(case.train.columns)
    assert all(in_unit_range(c["score"]) for c in quality["column_shapes"].values())
    diagnostic = case.report["fidelity"]["diagnostic"]
    assert in_unit_range(diagnostic["score"])
    assert in_unit_range(diagnostic["properties"]["Data Validity"])
    assert in_unit_range(case.report["fidelity"]["holdout_quality"])


def test_utility_reports_tstr_next_to_trtr(case):
    utility = case.report["utility"]
    assert utility["reason"] is None and utility["positive_class"] == "Yes"
    assert in_unit_range(utility["tstr_auc"]) and in_unit_range(utility["trtr_auc"])
    assert utility["ratio"] == pytest.approx(utility["tstr_auc"] / utility["trtr_auc"])


def test_utility_without_two_synthetic_classes_says_why(case):
    single_class = case.synthetic.assign(heart_disease="No")
    report = evaluate(case.train, case.holdout, single_class, case.metadata)
    assert report["utility"]["tstr_auc"] is None and report["utility"]["ratio"] is None
    assert "fewer than 2 classes" in report["utility"]["reason"]
    assert in_unit_range(report["utility"]["trtr_auc"])
    missing = evaluate(case.train, case.holdout, case.synthetic, case.metadata, target="no_such_column")
    assert missing["utility"]["tstr_auc"] is None and "no_such_column" in missing["utility"]["reason"]


def test_privacy_figures_are_shares_and_a_copula_is_not_flagged(case):
    privacy = case.report["privacy"]
    for key in ("identical_to_training", "identical_to_training_matched", "identical_to_holdout", "dcr_share"):
        assert in_unit_range(privacy[key]), key
    assert privacy["dcr_training_median"] >= 0 and privacy["dcr_rows"] == 693
    assert privacy["flagged"] is False and privacy["flags"] == []


def test_copies_of_training_rows_are_flagged(case):
    copies = case.train.sample(n=len(case.holdout), random_state=1)
    report = evaluate(case.train, case.holdout, copies, case.metadata.to_dict())
    privacy = report["privacy"]
    assert privacy["identical_to_training"] == 1.0 and privacy["identical_to_holdout"] == 0.0
    assert privacy["dcr_training_median"] == 0.0
    assert privacy["flagged"] is True
    assert any("equal a training row" in reason for reason in privacy["flags"])


def test_bmi_rule_share_drops_to_zero_once_applied(case):
    bmi = case.report["rules"]["bmi"]
    assert in_unit_range(bmi["synthetic_off_share"]) and bmi["synthetic_off_share"] > 0.1
    assert bmi["real_off_share"] == 0.0
    fixed = apply_bmi_rule(case.synthetic)
    assert bmi_off_share(fixed)[0] == 0.0
    assert fixed.drop(columns="bmi").equals(case.synthetic.drop(columns="bmi"))
    report = evaluate(case.train, case.holdout, fixed, case.metadata)
    assert report["rules"]["bmi"]["synthetic_off_share"] == 0.0


def test_rules_are_omitted_without_the_bmi_columns(case):
    columns = [c for c in case.train.columns if c != "height_cm"]
    metadata = case.metadata.to_dict()
    del metadata["tables"]["records"]["columns"]["height_cm"]
    report = evaluate(case.train[columns], case.holdout[columns], case.synthetic[columns], metadata)
    assert "rules" not in report
    assert apply_bmi_rule(case.synthetic[columns]).equals(case.synthetic[columns])


def test_plot_data_covers_every_column(case):
    plots = case.report["plots"]
    assert set(plots["columns"]) == set(case.train.columns)
    for name, data in plots["columns"].items():
        assert sum(data["real"]) == len(case.train), name
        assert len(data["synthetic"]) == len(data["real"])
        if data["kind"] == "numeric":
            assert len(data["edges"]) == len(data["real"]) + 1
    associations = plots["associations"]
    n = len(associations["columns"])
    for side in ("real", "synthetic"):
        assert len(associations[side]) == n and all(len(row) == n for row in associations[side])
        assert all(v is None or -1.0 <= v <= 1.0 for row in associations[side] for v in row)
    assert len(plots["pair_trend_scores"]["scores"]) == len(plots["pair_trend_scores"]["columns"])


@pytest.mark.parametrize(("n_train", "n_holdout", "slices"), [(50_000, 20_000, 2), (2770, 693, 3), (100, 400, 1)])
def test_training_slices_are_exactly_as_large_as_the_holdout(n_train, n_holdout, slices):
    """A slice larger than the holdout would sit nearer to any row by size alone and inflate the DCR share."""
    from synthesis.evaluation.privacy import holdout_sized_chunks

    chunks = holdout_sized_chunks(n_train, n_holdout, seed=0)
    assert len(chunks) == slices
    assert {len(c) for c in chunks} == {min(n_train, n_holdout)}
    joined = np.concatenate(chunks)
    assert len(set(joined)) == len(joined) and joined.max() < n_train


@pytest.mark.parametrize(("copies", "holdout_copies", "flagged"), [(1, 0, False), (3, 0, False), (10, 0, True),
                                                                  (10, 4, False), (40, 4, True)])
def test_copies_are_flagged_only_beyond_chance(copies, holdout_copies, flagged):
    """One coincidental match in 50,000 rows is no leak; ten where the holdout has none is."""
    from synthesis.evaluation.privacy import privacy_flags

    rows = 50_000
    reasons = privacy_flags({"dcr_share": 0.5, "identical_to_training_matched": copies / rows,
                             "identical_to_holdout": holdout_copies / rows, "synthetic_rows": rows})
    assert bool(reasons) is flagged, reasons
    if flagged:
        assert f"({copies} of {rows}) equal a training row" in reasons[0]
