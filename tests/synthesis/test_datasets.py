"""Datasets: snake_cased columns, paths confined to the data directory, and readable CSV files."""

from __future__ import annotations

import os

import pytest

from tests.harness import ROOT
from synthesis.datasets import (
    RESERVED_COLUMNS,
    DatasetError,
    list_datasets,
    read_dataset,
    resolve_dataset,
    snake_case,
    snake_case_columns,
)

SAMPLE = "cvd_sample_3463.csv"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Height_(cm)", "height_cm"),
        ("Weight_(kg)", "weight_kg"),
        ("FriedPotato_Consumption", "fried_potato_consumption"),
        ("Green_Vegetables_Consumption", "green_vegetables_consumption"),
        ("BMI", "bmi"),
        ("General_Health", "general_health"),
        ("  Age Category  ", "age_category"),
        ("2nd_visit", "c_2nd_visit"),
        ("%%%", "column"),
        ("x" * 100, "x" * 63),
    ],
)
def test_snake_case(raw, expected):
    assert snake_case(raw) == expected


def test_the_sample_columns_become_snake_case():
    header = (ROOT / "data" / SAMPLE).read_text().splitlines()[0].split(",")
    assert snake_case_columns(header) == [
        "general_health", "checkup", "exercise", "heart_disease", "skin_cancer", "other_cancer", "depression",
        "diabetes", "arthritis", "sex", "age_category", "height_cm", "weight_kg", "bmi", "smoking_history",
        "alcohol_consumption", "fruit_consumption", "green_vegetables_consumption", "fried_potato_consumption",
    ]


def test_columns_that_collide_are_rejected_naming_both():
    with pytest.raises(DatasetError) as raised:
        snake_case_columns(["Height_(cm)", "height cm"])
    message = str(raised.value)
    assert "'Height_(cm)'" in message and "'height cm'" in message and "'height_cm'" in message


@pytest.mark.parametrize("column", sorted(RESERVED_COLUMNS) + ["Record_ID", "ModelVersion", "Kafka Offset"])
def test_reserved_column_names_are_rejected(column):
    with pytest.raises(DatasetError, match="reserves") as raised:
        snake_case_columns(["BMI", column])
    assert repr(column) in str(raised.value)


# --- resolve_dataset -----------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path):
    root = tmp_path / "data"
    (root / "nested").mkdir(parents=True)
    (root / "ok.csv").write_text("a,b\n1,2\n")
    (root / "UPPER.CSV").write_text("a,b\n1,2\n")
    (root / "nested" / "inner.csv").write_text("a,b\n1,2\n")
    (root / "notes.txt").write_text("not a table")
    (root / "folder.csv").mkdir()
    outside = tmp_path / "secret.csv"
    outside.write_text("password\nhunter2\n")
    (root / "link_out.csv").symlink_to(outside)
    (root / "dir_out").symlink_to(tmp_path)
    (root / "link_in.csv").symlink_to(root / "ok.csv")
    return root


def test_resolve_finds_files_inside_the_data_dir(data_dir):
    assert resolve_dataset(data_dir, "ok.csv") == (data_dir / "ok.csv").resolve()
    assert resolve_dataset(data_dir, "nested/inner.csv") == (data_dir / "nested" / "inner.csv").resolve()
    assert resolve_dataset(data_dir, "nested/../ok.csv") == (data_dir / "ok.csv").resolve()
    assert resolve_dataset(data_dir, "UPPER.CSV").name == "UPPER.CSV"
    assert resolve_dataset(data_dir, str(data_dir / "ok.csv")) == (data_dir / "ok.csv").resolve()
    assert resolve_dataset(data_dir, "link_in.csv") == (data_dir / "ok.csv").resolve()


def test_resolve_takes_the_original_readmes_data_prefix(data_dir):
    """The original service's clients send "./data/<file>": the data directory, whatever DATA_DIR is called."""
    assert resolve_dataset(data_dir, "./data/ok.csv") == (data_dir / "ok.csv").resolve()
    assert resolve_dataset(data_dir, "data/nested/inner.csv") == (data_dir / "nested" / "inner.csv").resolve()
    (data_dir / "data").mkdir()
    (data_dir / "data" / "ok.csv").write_text("a\n1\n")  # a real data/ folder inside DATA_DIR wins
    assert resolve_dataset(data_dir, "./data/ok.csv") == (data_dir / "data" / "ok.csv").resolve()


def test_resolve_finds_the_bundled_sample():
    assert resolve_dataset(ROOT / "data", SAMPLE) == (ROOT / "data" / SAMPLE).resolve()


@pytest.mark.parametrize(
    ("dataset_path", "problem"),
    [
        ("../secret.csv", "outside the data directory"),
        ("..", "outside the data directory"),
        ("../../../../etc/passwd", "outside the data directory"),
        ("nested/../../secret.csv", "outside the data directory"),
        ("/etc/passwd", "outside the data directory"),
        ("/etc/hostname.csv", "outside the data directory"),
        ("link_out.csv", "outside the data directory"),
        ("dir_out/secret.csv", "outside the data directory"),
        ("%2e%2e/secret.csv", "does not exist"),
        ("..%2fsecret.csv", "does not exist"),
        ("missing.csv", "does not exist"),
        ("notes.txt", "not a .csv file"),
        ("folder.csv", "not a file"),
        ("nested", "not a file"),
        (".", "outside the data directory"),
        ("", "non-empty"),
        ("ok.csv\x00.txt", "NUL"),
        ("./data/../secret.csv", "outside the data directory"),
        ("./data/../../../etc/passwd", "outside the data directory"),
        ("./data/link_out.csv", "outside the data directory"),
        ("./data/dir_out/secret.csv", "outside the data directory"),
        ("./data/missing.csv", "does not exist"),
    ],
)
def test_resolve_rejects(data_dir, dataset_path, problem):
    with pytest.raises(DatasetError, match=problem) as raised:
        resolve_dataset(data_dir, dataset_path)
    assert "dataset_path" in str(raised.value)


def test_resolve_rejects_an_absolute_path_to_the_outside_file(data_dir):
    with pytest.raises(DatasetError, match="outside the data directory"):
        resolve_dataset(data_dir, str(data_dir.parent / "secret.csv"))


def test_resolve_rejects_a_symlink_loop(data_dir):
    (data_dir / "loop.csv").symlink_to(data_dir / "loop.csv")
    (data_dir / "ping.csv").symlink_to(data_dir / "pong.csv")
    (data_dir / "pong.csv").symlink_to(data_dir / "ping.csv")
    for name in ("loop.csv", "ping.csv"):
        with pytest.raises(DatasetError, match="does not exist in the data directory"):
            resolve_dataset(data_dir, name)
    assert {d["relative_path"] for d in list_datasets(data_dir)} == {"ok.csv", "nested/inner.csv", "link_in.csv"}


def test_resolve_rejects_a_non_string():
    with pytest.raises(DatasetError, match="non-empty path"):
        resolve_dataset(ROOT / "data", None)


# --- list_datasets -------------------------------------------------------------------------------


def test_list_offers_csv_files_inside_and_skips_symlinks_leading_out(data_dir):
    found = {d["relative_path"]: d for d in list_datasets(data_dir)}
    assert set(found) == {"ok.csv", "nested/inner.csv", "link_in.csv"}
    entry = found["nested/inner.csv"]
    assert entry["name"] == "inner.csv"
    assert entry["size_bytes"] == len("a,b\n1,2\n")
    assert entry["modified_at"].endswith("+00:00")


def test_list_of_a_missing_dir_is_empty(tmp_path):
    assert list_datasets(tmp_path / "nowhere") == []


def test_list_the_bundled_data_dir():
    found = list_datasets(ROOT / "data")
    sample = next(d for d in found if d["path"] == f"./data/{SAMPLE}")
    assert sample["size_bytes"] == os.path.getsize(ROOT / "data" / SAMPLE)


# --- read_dataset --------------------------------------------------------------------------------


def test_read_the_sample_snake_cases_its_columns():
    df = read_dataset(ROOT / "data" / SAMPLE)
    assert len(df) == 3463
    assert df.shape[1] == 19
    assert "height_cm" in df.columns and "fried_potato_consumption" in df.columns and "bmi" in df.columns


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "cannot be parsed as a CSV table"),
        (b'a,b\n"1,2\n3,4\n', "cannot be parsed as a CSV table"),
        (b"\xff\xfe\x00\x00garbage\x80\x81\n" * 20, "cannot be parsed as a CSV table"),
        (b"a,b\n1,2\n", "at least 10 rows"),
    ],
)
def test_read_an_unparseable_file_says_what_is_wrong(tmp_path, content, problem):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=problem) as raised:
        read_dataset(path)
    assert "broken.csv" in str(raised.value)


def test_read_a_file_with_colliding_columns_names_them(tmp_path):
    path = tmp_path / "collide.csv"
    path.write_text("BMI,bmi\n" + "1,2\n" * 20)
    with pytest.raises(DatasetError, match="both become 'bmi'"):
        read_dataset(path)


def test_read_a_file_with_too_many_columns(tmp_path):
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(501))
    path.write_text(header + "\n" + ("1," * 500 + "1\n") * 10)
    with pytest.raises(DatasetError, match="at most 500"):
        read_dataset(path)
