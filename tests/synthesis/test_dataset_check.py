"""The dataset check before training: malformed rows dropped and listed by line, or the training refused."""

from __future__ import annotations

import csv
import io

import pytest

from synthesis.dataset_check import check_dataset
from synthesis.datasets import DatasetError
from tests.evaluation_case import DATASET


def damaged(tmp_path, edits: dict[int, callable]):
    """A copy of the sample with some lines changed (line numbers as an editor shows them, header = 1)."""
    lines = DATASET.read_text().splitlines()
    for number, edit in edits.items():
        lines[number - 1] = edit(lines[number - 1])
    path = tmp_path / "damaged.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def field(index: int, value: str):
    def edit(line: str) -> str:
        parts = next(csv.reader([line]))
        parts[index] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(parts)
        return out.getvalue()
    return edit


def test_the_bundled_sample_passes_clean():
    df, report = check_dataset(DATASET)
    assert len(df) == report["rows_read"] == 3463
    assert report["rows_dropped"] == 0 and report["findings"] == [] and report["duplicate_rows"] == 0
    assert report["columns"]["age_category"]["levels"] == 13
    assert all(info["missing_share"] == 0 for info in report["columns"].values())


def test_malformed_rows_are_dropped_and_named_by_line(tmp_path):
    path = damaged(tmp_path, {
        6: lambda line: line + ",surplus",        # 20 fields
        12: lambda line: line.rsplit(",", 1)[0],  # 18 fields
        21: field(9, "Femal"),                    # a level seen once in a two-level column
        31: field(2, "yes"),                      # 'Yes' spelled otherwise
        41: field(11, "one hundred sixty"),       # text in the numeric height column
    })
    df, report = check_dataset(path)
    assert report["rows_read"] == 3463 and report["rows_dropped"] == 5 and len(df) == 3458
    assert report["problems"]["wrong_field_count"]["lines"] == [6, 12]
    assert report["columns"]["sex"]["garbage_levels"] == {"levels": ["Femal"], "rows": 1, "lines": [21]}
    assert report["columns"]["exercise"]["garbage_levels"]["lines"] == [31]
    assert report["columns"]["height_cm"]["wrong_type"]["lines"] == [41]
    assert df["height_cm"].dtype.kind == "f" and set(df["sex"]) == {"Female", "Male"}
    findings = " | ".join(report["findings"])
    for expected in ("2 rows do not have 19 fields (lines 6, 12)", "'Femal'", "'one hundred sixty'"):
        assert expected in findings


def test_too_many_malformed_rows_fail_with_the_reason(tmp_path):
    path = damaged(tmp_path, {line: field(11, "tall") for line in range(2, 80)})
    with pytest.raises(DatasetError, match=r"78 of 3463 rows \(2.3%\) are malformed, more than the 1.0% allowed"):
        check_dataset(path, max_bad_share=0.01)
    df, report = check_dataset(path, max_bad_share=0.05)
    assert report["rows_dropped"] == 78 and len(df) == 3463 - 78


def test_identifier_constant_and_empty_columns_are_reported(tmp_path):
    import pandas as pd

    df = pd.read_csv(DATASET)
    df["Patient"] = [f"p{i}" for i in range(len(df))]
    df["Survey"] = "BRFSS"
    df["Notes"] = None
    df = pd.concat([df, df.iloc[:3]])
    df.to_csv(tmp_path / "extra.csv", index=False)
    _, report = check_dataset(tmp_path / "extra.csv")
    findings = " | ".join(report["findings"])
    assert "patient: 3463 levels in 3466 rows: an identifier or free text" in findings
    assert "survey: a single value in every row" in findings and "notes: 100% missing" in findings
    assert "3 rows (0.1%) repeat an earlier row (kept)" in findings
    assert report["rows_dropped"] == 0
