#!/usr/bin/env python3
"""Download the full CVD dataset (CDC BRFSS 2021, Kaggle "alphiree/cardiovascular-diseases-risk-prediction-dataset").

Uses the Kaggle API when credentials exist (~/.kaggle/kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY), checks
the file (308,854 rows, the 19 expected columns) and places it at data/CVD_cleaned.csv. Without
credentials it says what to do; the bundled 3,463-row sample stays in place either way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

DATASET = "alphiree/cardiovascular-diseases-risk-prediction-dataset"
FILE = "CVD_cleaned.csv"
ROWS = 308_854
COLUMNS = [
    "General_Health", "Checkup", "Exercise", "Heart_Disease", "Skin_Cancer", "Other_Cancer", "Depression",
    "Diabetes", "Arthritis", "Sex", "Age_Category", "Height_(cm)", "Weight_(kg)", "BMI", "Smoking_History",
    "Alcohol_Consumption", "Fruit_Consumption", "Green_Vegetables_Consumption", "FriedPotato_Consumption",
]
DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SAMPLE = DATA_DIR / "cvd_sample_3463.csv"


def has_credentials() -> bool:
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle")) / "kaggle.json"
    return config.is_file()


def verify(path: Path) -> None:
    import pandas as pd

    df = pd.read_csv(path)
    if list(df.columns) != COLUMNS:
        raise SystemExit(f"{path.name}: unexpected columns {list(df.columns)}")
    if len(df) != ROWS:
        raise SystemExit(f"{path.name}: {len(df)} rows, expected {ROWS}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DATA_DIR, help="folder for CVD_cleaned.csv (default data/)")
    args = parser.parse_args()
    if not has_credentials():
        print(
            "No Kaggle credentials found, so the full dataset was not downloaded.\n"
            "  1. Create an API token at https://www.kaggle.com/settings (Account > API > Create New Token).\n"
            "  2. Save it as ~/.kaggle/kaggle.json (chmod 600), or set KAGGLE_USERNAME and KAGGLE_KEY.\n"
            "  3. pip install kaggle, then run this script again.\n"
            f"Meanwhile the bundled sample is in place: {SAMPLE} ({'present' if SAMPLE.is_file() else 'MISSING'})."
        )
        return 0
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError:
        print("Kaggle credentials found but the client is missing: .venv/bin/pip install kaggle", file=sys.stderr)
        return 1
    api = KaggleApi()
    api.authenticate()
    args.dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dest) as tmp:
        api.dataset_download_file(DATASET, FILE, path=tmp)
        downloaded = Path(tmp) / FILE
        if not downloaded.exists():  # the API may deliver it zipped
            import zipfile

            with zipfile.ZipFile(Path(tmp) / f"{FILE}.zip") as z:
                z.extract(FILE, tmp)
        verify(downloaded)
        os.replace(downloaded, args.dest / FILE)
    print(f"{args.dest / FILE}: {ROWS} rows, {len(COLUMNS)} columns, verified. Train on it with "
          f'POST /train {{"dataset_path": "{FILE}"}}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
