"""Pool processes end with their worker, also when it died before they started, and yield the CPU."""

from __future__ import annotations

import os
import subprocess
import sys

from settings import ROOT


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
