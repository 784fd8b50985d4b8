"""Pool processes end with their worker, also when it died before they started, yield the CPU, and leave
stopping to the worker: Ctrl-C does not reach them, the worker kills them with what they started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from tests.harness import ROOT
from synthesis.process import PoolContext, leave_stopping_to_the_worker


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_process_whose_worker_is_already_gone_exits_at_once():
    # the worker gave its pid; this process's parent is someone else (as after a kill -9 during start-up)
    done = _run(f"from synthesis.process import exit_with_parent\n"
                f"exit_with_parent({os.getpid() + 10**6})\nimport time; time.sleep(30)\nprint('survived')")
    assert done.returncode == 1 and "survived" not in done.stdout


def test_a_process_whose_worker_lives_goes_on():
    done = _run("import os\nfrom synthesis.process import exit_with_parent\n"
                "exit_with_parent(os.getppid())\nprint('running')")
    assert done.returncode == 0 and done.stdout.strip() == "running"


def test_pool_processes_lower_their_priority():
    done = _run("import os\nfrom synthesis.process import lower_priority\n"
                "before = os.nice(0)\nlower_priority(7)\nprint(os.nice(0) - before)")
    assert done.returncode == 0 and done.stdout.strip() == "7"
    done = _run("import os\nfrom synthesis.process import lower_priority\n"
                "before = os.nice(0)\nlower_priority(0)\nprint(os.nice(0) - before)")
    assert done.stdout.strip() == "0"


def _start_a_child(_) -> tuple[int, int]:
    """In a pool process: start a process, as joblib's loky does during a fit; (this pid, the child's)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    return os.getpid(), child.pid


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_pool_processes_ignore_ctrl_c_and_end_with_what_they_started():
    context = PoolContext()
    pool = ProcessPoolExecutor(1, mp_context=context, initializer=leave_stopping_to_the_worker)
    pid, child = pool.submit(_start_a_child, None).result(timeout=60)
    for sig in (signal.SIGINT, signal.SIGTERM):  # what a terminal, or a kill of the group, sends it
        os.kill(pid, sig)
    busy = pool.submit(time.sleep, 120)
    time.sleep(0.5)
    assert _running(pid) and _running(child) and not busy.done()
    context.end(pool)
    with pytest.raises(BrokenProcessPool):
        busy.result(timeout=10)
    assert not _running(pid)
    deadline = time.monotonic() + 10
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child), "the pool process's child outlived it"
