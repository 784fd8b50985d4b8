"""The check a dataset passes before training: rows that do not fit the header, values of the wrong
type, implausible or garbage category levels, constant and near-empty columns, duplicates, missing values.

Rows that break the table (wrong field count, a value of the wrong type, a garbage level) are dropped and
listed by line number; when they are more than `max_bad_share` of the rows, the training fails instead.
The rest are findings a user should see next to the model's scores, not reasons to drop anything.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from synthesis.datasets import DatasetError, read_csv_table

# A text column is taken as numbers when at least this share of its values parse as numbers.
NUMERIC_SHARE = 0.95
# A category column with more levels than this share of its rows is an identifier or free text.
MAX_LEVEL_SHARE = 0.5
# In a column of few, well-filled levels (at least this many rows per level on average), a level seen
# once, or one equal to another level but for case and spaces, is taken as a typo: it would teach the
# model a category that does not exist, and a value held by a single person is also the easiest to re-identify.
ROWS_PER_LEVEL = 100
NEAR_EMPTY_SHARE = 0.95
DEFAULT_MAX_BAD_SHARE = 0.01  # MAX_BAD_ROW_SHARE's default in settings
MAX_LINES_LISTED = 20


def _field_count_problems(path: Path) -> tuple[list[str], list[int]]:
    """(header, 1-based line numbers of records whose field count differs from the header's)."""
    with open(path, newline="", encoding="utf-8", errors="strict") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise DatasetError(f"{path.name} is empty")
        bad = [reader.line_num for row in reader if row and len(row) != len(header)]
    return header, bad


def _line_numbers(index, skipped: list[int]) -> list[int]:
    """File line numbers of DataFrame rows, given the (sorted) lines skipped while reading."""
    import numpy as np

    positions = np.asarray(index) + 2  # header is line 1
    if not skipped:
        return positions.tolist()
    # each skipped line before a row moves that row one line further down
    out = positions.copy()
    for line in skipped:
        out[out >= line] += 1
    return out.tolist()


def _garbage_levels(values) -> list[str]:
    counts = values.value_counts()
    if len(counts) < 2 or len(values) / len(counts) < ROWS_PER_LEVEL:
        return []
    normalised = {}
    for level, count in counts.items():
        normalised.setdefault(str(level).strip().lower(), []).append((count, level))
    garbage = {level for level, count in counts.items() if count == 1}
    for variants in normalised.values():
        variants.sort(key=lambda pair: pair[0], reverse=True)
        garbage |= {level for _, level in variants[1:]}  # all but the most frequent spelling
    return sorted(garbage, key=str)


def check_dataset(path: Path, max_bad_share: float = DEFAULT_MAX_BAD_SHARE):
    """(the table with bad rows dropped, the check's report); DatasetError when too many rows are bad."""
    import pandas as pd

    path = Path(path)
    try:
        header, wrong_count = _field_count_problems(path)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path.name} is not UTF-8 text: {exc}") from None
    except csv.Error as exc:
        raise DatasetError(f"{path.name} cannot be parsed as CSV: {exc}") from None
    skip = {line - 1 for line in wrong_count}  # read_csv counts lines from 0
    df = read_csv_table(path, skiprows=lambda i: i in skip)
    rows_read = len(df) + len(wrong_count)
    problems: dict[str, Any] = {}
    if wrong_count:
        problems["wrong_field_count"] = {"rows": len(wrong_count), "lines": wrong_count[:MAX_LINES_LISTED],
                                         "expected_fields": len(header)}
    lines = _line_numbers(df.index, sorted(wrong_count))
    line_of = dict(zip(df.index, lines))
    bad_rows = pd.Series(False, index=df.index)
    columns: dict[str, Any] = {}
    for column in df.columns:
        values = df[column]
        info: dict[str, Any] = {"missing_share": float(values.isna().mean())}
        present = values.dropna()
        if values.dtype == object and len(present):
            numbers = pd.to_numeric(present, errors="coerce")
            if numbers.notna().mean() >= NUMERIC_SHARE:
                wrong = numbers.isna()
                info["wrong_type"] = {"rows": int(wrong.sum()), "examples": sorted(map(str, present[wrong].unique()))[:5],
                                      "lines": [line_of[i] for i in present[wrong].index[:MAX_LINES_LISTED]]}
                bad_rows |= values.index.isin(present[wrong].index)
                df[column] = pd.to_numeric(values, errors="coerce")
                values, present = df[column], df[column].dropna()
            else:
                levels = present.nunique()
                info["levels"] = int(levels)
                if levels > MAX_LEVEL_SHARE * len(present) and len(present) >= 20:
                    info["implausible_levels"] = (
                        f"{levels} levels in {len(present)} rows: an identifier or free text, not a category"
                    )
                garbage = _garbage_levels(present)
                if garbage:
                    hit = values.isin(garbage)
                    info["garbage_levels"] = {"levels": garbage[:MAX_LINES_LISTED], "rows": int(hit.sum()),
                                              "lines": [line_of[i] for i in values[hit].index[:MAX_LINES_LISTED]]}
                    bad_rows |= hit
        if present.nunique() <= 1:
            info["constant"] = True
        if info["missing_share"] >= NEAR_EMPTY_SHARE:
            info["near_empty"] = True
        columns[column] = info
    dropped = int(bad_rows.sum()) + len(wrong_count)
    duplicates = int(df.duplicated().sum())
    share = dropped / rows_read if rows_read else 0.0
    report = {
        "rows_read": rows_read,
        "rows_dropped": dropped,
        "dropped_share": share,
        "max_bad_share": max_bad_share,
        "problems": problems,
        "duplicate_rows": duplicates,
        "columns": columns,
        "findings": _findings(problems, columns, duplicates, len(df)),
    }
    if share > max_bad_share:
        raise DatasetError(
            f"{path.name}: {dropped} of {rows_read} rows ({share:.1%}) are malformed, more than the "
            f"{max_bad_share:.1%} allowed (MAX_BAD_ROW_SHARE): " + "; ".join(report["findings"][:5])
        )
    return df[~bad_rows].reset_index(drop=True), report


def _findings(problems: dict, columns: dict, duplicates: int, rows: int) -> list[str]:
    """One sentence per problem, for the task's result and the report page."""
    out = []
    if "wrong_field_count" in problems:
        p = problems["wrong_field_count"]
        out.append(f"{p['rows']} rows do not have {p['expected_fields']} fields (lines {_lines(p['lines'], p['rows'])})")
    for name, info in columns.items():
        if "wrong_type" in info:
            w = info["wrong_type"]
            out.append(f"{name}: {w['rows']} values are not numbers ({', '.join(map(repr, w['examples']))}; "
                       f"lines {_lines(w['lines'], w['rows'])})")
        if "garbage_levels" in info:
            g = info["garbage_levels"]
            out.append(f"{name}: levels {', '.join(map(repr, g['levels']))} look like typos "
                       f"({g['rows']} rows; lines {_lines(g['lines'], g['rows'])})")
        if "implausible_levels" in info:
            out.append(f"{name}: {info['implausible_levels']}")
        if info.get("constant"):
            out.append(f"{name}: a single value in every row")
        if info.get("near_empty"):
            out.append(f"{name}: {info['missing_share']:.0%} missing")
    if duplicates:
        out.append(f"{duplicates} rows ({duplicates / max(rows, 1):.1%}) repeat an earlier row (kept)")
    return out


def _lines(lines: list[int], total: int) -> str:
    shown = ", ".join(map(str, lines))
    return shown + (f" and {total - len(lines)} more" if total > len(lines) else "")
