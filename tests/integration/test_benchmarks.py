"""The benchmarks' smoke modes, so the commands in the README keep working (no times are asserted)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import ROOT

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("script", "expect"),
    [
        ("benchmarks/stream_bench.py", "pipeline: POST /stream -> rows in DuckDB"),
        ("benchmarks/warehouse_bench.py", "snowflake (fakesnow)"),
        ("benchmarks/quality_bench.py", "all methods: quality, TSTR/TRTR and privacy"),
        ("benchmarks/latency_bench.py", "GET /health"),
        ("benchmarks/training_bench.py", "service / direct"),
        ("benchmarks/scale_bench.py", "x one worker"),
        ("benchmarks/dashboard_bench.py", "dashboard open (polls every 0.5 s)"),
    ],
)
def test_benchmark_smoke_mode_prints_its_table(script, expect):
    done = subprocess.run([sys.executable, script, "--smoke"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert expect in done.stdout
