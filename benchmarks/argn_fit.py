"""Run by benchmarks/argn_bench.py with the Python of a separate environment that has mostlyai-engine.

    python argn_fit.py TRAIN_CSV OUT_PREFIX ROWS SETS

Fits MOSTLY AI's TabularARGN on TRAIN_CSV with the library's defaults and writes SETS synthetic sets of
ROWS rows as OUT_PREFIX.N.csv; prints the fit seconds and sampling rows/s as JSON on its last line.
"""

import json
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")


def main() -> None:
    import pandas as pd
    import torch
    from mostlyai.engine import TabularARGN

    train_csv, prefix, rows, sets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(1)
    train = pd.read_csv(train_csv)
    argn = TabularARGN(workspace_dir=tempfile.mkdtemp(), verbose=0)
    started = time.perf_counter()
    argn.fit(train)
    fit_s = time.perf_counter() - started
    sample_s = 0.0
    for n in range(sets):
        started = time.perf_counter()
        synthetic = argn.sample(n_samples=rows)
        sample_s += time.perf_counter() - started
        synthetic.to_csv(f"{prefix}.{n}.csv", index=False)
    print(json.dumps({"fit_s": fit_s, "sample_rows_per_s": rows * sets / sample_s}))


if __name__ == "__main__":
    main()
