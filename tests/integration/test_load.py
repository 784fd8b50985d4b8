"""The load benchmark, run in full: 50 clients for 60 s on loopback while a stream runs, and no request fails.

Latencies are printed by the benchmark, never asserted.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.harness import ROOT

pytestmark = pytest.mark.integration


def test_50_clients_for_30_seconds_get_no_errors():
    done = subprocess.run([sys.executable, "benchmarks/load_bench.py", "--clients", "50", "--seconds", "30",
                           "--rows", "1000000"], cwd=ROOT, capture_output=True, text=True, timeout=400)
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "MAX_EXPENSIVE_REQUESTS_PER_CLIENT=50" in done.stdout
    rows = {m["name"]: (int(m["n"]), int(m["errors"])) for m in re.finditer(
        r"^(?P<name>POST /generate \(100 rows\)|GET /health)\s+(?P<n>\d+)\s+(?P<errors>\d+)\s", done.stdout, re.M)}
    assert set(rows) == {"POST /generate (100 rows)", "GET /health"}, done.stdout
    for name, (requests, errors) in rows.items():
        assert errors == 0, f"{name}: {errors} errors\n{done.stdout}"
        assert requests >= 50, f"{name}: every client should have made at least one request\n{done.stdout}"
    assert int(re.search(r"rows landed by the stream meanwhile: (\d+)", done.stdout)[1]) > 0
