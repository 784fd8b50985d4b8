"""Datasets: which CSV files a user may train on, and reading them into snake_cased tables."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# Record fields that the pipeline adds; a dataset column with one of these names would clash.
RESERVED_COLUMNS = frozenset(
    {"record_id", "model_name", "model_version", "request_id", "generated_at", "ingested_at",
     "kafka_topic", "kafka_partition", "kafka_offset"}
)
MAX_COLUMNS = 500
# The original service's clients name datasets as "./data/<file>" (its data directory, seen from where it ran);
# that prefix means the data directory, whatever DATA_DIR is.
SPEC_PREFIX = "data"


class DatasetError(ValueError):
    """A dataset path or file that cannot be trained on."""


def snake_case(name: str) -> str:
    """'Height_(cm)' -> 'height_cm', 'FriedPotato_Consumption' -> 'fried_potato_consumption'."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    if not name:
        name = "column"
    if name[0].isdigit():
        name = f"c_{name}"
    return name[:63]


def snake_case_columns(columns: list[str]) -> list[str]:
    renamed = [snake_case(c) for c in columns]
    seen: dict[str, str] = {}
    for original, new in zip(columns, renamed):
        if new in RESERVED_COLUMNS:
            raise DatasetError(f"column {original!r} becomes {new!r}, a name the pipeline reserves")
        if new in seen:
            raise DatasetError(f"columns {seen[new]!r} and {original!r} both become {new!r}")
        seen[new] = original
    return renamed


def resolve_dataset(data_dir: Path, dataset_path: str) -> Path:
    """The dataset file for a user-given path; it must stay inside data_dir after following links."""
    if not isinstance(dataset_path, str) or not dataset_path or "\x00" in dataset_path:
        raise DatasetError("dataset_path must be a non-empty path without NUL characters")
    root = Path(data_dir).resolve()
    candidate = Path(dataset_path)
    if not candidate.is_absolute():
        literal = root / candidate
        parts = candidate.parts
        # "./data/x.csv" (the original README's form) is x.csv in the data directory, unless data_dir/data/x.csv exists
        if len(parts) > 1 and parts[0] == SPEC_PREFIX and not os.path.lexists(literal):
            literal = root.joinpath(*parts[1:])
        candidate = literal
    try:
        resolved = candidate.resolve(strict=True)
    except (RuntimeError, OSError):  # missing, or a symlink loop (Path.resolve raises on loops)
        loose = Path(os.path.realpath(candidate))
        if root not in loose.parents and loose != root:
            raise DatasetError(f"dataset_path {dataset_path!r} is outside the data directory") from None
        raise DatasetError(f"dataset_path {dataset_path!r} does not exist in the data directory") from None
    if root not in resolved.parents:
        raise DatasetError(f"dataset_path {dataset_path!r} is outside the data directory")
    if not resolved.is_file():
        raise DatasetError(f"dataset_path {dataset_path!r} is not a file")
    if resolved.suffix.lower() != ".csv":
        raise DatasetError(f"dataset_path {dataset_path!r} is not a .csv file")
    return resolved


def list_datasets(data_dir: Path) -> list[dict[str, Any]]:
    root = Path(data_dir).resolve()
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.rglob("*.csv")):
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):  # dangling link or symlink loop
            continue
        if root not in resolved.parents or not resolved.is_file():
            continue  # symlinks leading out are not offered
        stat = resolved.stat()
        relative = path.relative_to(root).as_posix()
        out.append({
            "name": path.name,
            "path": f"./{SPEC_PREFIX}/{relative}",  # the original service's form; resolve_dataset takes both
            "relative_path": relative,
            "size_bytes": stat.st_size,
            "modified_at": datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(),
        })
    return out


def read_dataset(path: Path):
    """Read a CSV into a DataFrame with snake_cased columns; DatasetError says what is wrong."""
    return read_csv_table(path)


def read_csv_table(path: Path, **options):
    """pandas.read_csv(path, **options) with snake_cased columns and the size checks; DatasetError says what is wrong."""
    import pandas as pd

    try:
        df = pd.read_csv(path, **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"{path.name} cannot be parsed as a CSV table: {exc}") from None
    if df.shape[1] < 1 or len(df) < 10:
        raise DatasetError(f"{path.name} has {len(df)} rows and {df.shape[1]} columns; at least 10 rows are needed")
    if df.shape[1] > MAX_COLUMNS:
        raise DatasetError(f"{path.name} has {df.shape[1]} columns; at most {MAX_COLUMNS} are supported")
    df.columns = snake_case_columns([str(c) for c in df.columns])
    return df
