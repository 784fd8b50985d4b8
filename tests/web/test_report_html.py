"""The report page: every score named and explained, a chart per column, the heatmaps, and nothing fetched online."""

from __future__ import annotations

import re

import pytest

from synthesis.evaluation import evaluate
from tests.evaluation_case import MANIFEST, evaluated_sample
from web.report_html import render_report

SCORE_WORDS = (
    "Quality score", "Column Shapes", "Column Pair Trends", "Diagnostic score", "TSTR AUC", "TRTR AUC",
    "TSTR / TRTR", "DCR share", "Identical to training", "Identical to holdout", "BMI rule broken",
)


@pytest.fixture(scope="module")
def case():
    return evaluated_sample()


@pytest.fixture(scope="module")
def page(case):
    return render_report(MANIFEST, case.report)


def test_page_names_the_model_and_every_score(page):
    assert page.startswith("<!DOCTYPE html>")
    assert "cvd-copula v1" in page and "gaussian_copula" in page and "default_distribution=beta" in page
    for words in SCORE_WORDS:
        assert words in page, words
    assert "Holdout quality" in page and "No privacy flag" in page


def test_every_column_has_its_chart(case, page):
    labels = re.findall(r'<svg [^>]*aria-label="([^"]*)"', page)
    for column in case.train.columns:
        kind = "histogram" if case.train[column].dtype.kind == "f" else "bar chart"
        assert f"{kind} of {column}, real vs synthetic" in labels, column


def test_real_and_synthetic_heatmaps_are_drawn(case, page):
    labels = re.findall(r'<svg [^>]*aria-label="([^"]*)"', page)
    assert "Associations, real rows" in labels and "Associations, synthetic rows" in labels
    assert any(label.startswith("Pair-trend scores") for label in labels)
    n = len(case.train.columns)
    assert page.count("<svg ") == n + 3
    assert len(re.findall(r"<title>height_cm × weight_kg: -?\d\.\d\d</title>", page)) == 2


def test_page_works_offline(page):
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)="https?://', page)
    assert "<link" not in page.lower()


def test_flagged_privacy_is_shown_with_its_reasons(case):
    copies = case.train.sample(n=len(case.holdout), random_state=1)
    report = evaluate(case.train, case.holdout, copies, case.metadata)
    page = render_report(MANIFEST, report)
    assert "Privacy flagged" in page
    assert "equal a training row" in page


def test_frames_stand_in_for_missing_plot_data(case):
    manifest = dict(MANIFEST, columns=[
        {"name": c, "sdtype": "numerical" if case.train[c].dtype.kind == "f" else "categorical"}
        for c in case.train.columns
    ])
    report = {k: v for k, v in case.report.items() if k != "plots"}
    page = render_report(manifest, report, real_df=case.train, synthetic_df=case.synthetic)
    assert page.count("<svg ") == len(case.train.columns) + 2  # no pair-trend scores without the report's
    assert "histogram of bmi, real vs synthetic" in page


def test_page_shows_the_spread_over_seeds_the_data_check_and_the_privacy_budget(case):
    from synthesis.quality import seed_summary

    runs = [case.report, {**case.report, "fidelity": {"quality": {"score": 0.5}}}]
    report = {**case.report, "seeds": seed_summary(runs, [0, 1]), "data_check": {
        "rows_read": 3463, "rows_dropped": 2, "dropped_share": 2 / 3463, "max_bad_share": 0.01,
        "duplicate_rows": 0, "columns": {"bmi": {"missing_share": 0.25}},
        "findings": ["sex: levels 'Femal' look like typos (1 rows; lines 21)"]}}
    manifest = {**MANIFEST, "method": "mst", "parameters": {"epsilon": 1.0, "delta": 1e-9}}
    page = render_report(manifest, report)
    first = case.report["fidelity"]["quality"]["score"]
    assert "mean ± sd over 2 seeds" in page
    assert f"{(first + 0.5) / 2:.3f} ± " in page  # the quality score's mean over the two runs
    assert "Input data check" in page and "2 dropped as malformed" in page and "bmi 25.0%" in page
    assert "levels &#x27;Femal&#x27; look like typos" in page
    assert "Differential privacy" in page and "epsilon=1.0" in page
