"""Ctrl-C or SIGTERM stops a busy worker within seconds: a CTGAN training and a 500,000-row stream in progress.

What a user sees: the worker exits with status 0, leaves no process running (the pool processes and
what they started included) and prints no traceback; the training ends failed ("worker stopped") as
any worker reads it from the status topic; the stream stays running, for another worker to resume
(tests/integration/test_faults.py shows that resumption). With the broker stopped first, nothing can
be published: the worker still stops (the broker is memory-only: the status topic is gone with it).
A second Ctrl-C ends it at once. (Few cases, each a real worker: the suite stays under 15 minutes.)
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from broker.embedded import EmbeddedBroker
from tests.harness import Worker, free_port, session_processes, status_entries, train_sample_model, wait_for

pytestmark = pytest.mark.integration
STOP_WAIT = 10  # seconds a stopping worker gets before the test fails


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """A model store with the default model, for the workers below to stream from."""
    return train_sample_model(tmp_path_factory.mktemp("shutdown-models"))


def terminal_worker(bootstrap: str, tmp_path, models_dir: str) -> Worker:
    """A worker started as from a terminal, streaming from models_dir."""
    return Worker(bootstrap, tmp_path, MODELS_DIR=models_dir, PYTHONFAULTHANDLER="1").start(terminal=True)


def keep_busy(worker: Worker) -> tuple[str, str]:
    """Start a CTGAN training and a 500,000-row stream, and wait until records land; (task id, stream id)."""
    task_id = worker.post("/train", json={"method": "ctgan", "model_name": "c1", "epochs": 300}).json()["task_id"]
    stream_id = worker.post("/stream", json={"num_samples": 500_000, "batch_size": 5000}).json()["stream_id"]
    wait_for(lambda: worker.get(f"/stream/{stream_id}").json()["rows_landed"] > 0, 120, "rows to land")
    return task_id, stream_id


def wait_stopped(worker: Worker, what: str) -> int:
    """Wait for the worker to exit; its status. Fails, with its threads' stacks in the log, if it does not."""
    started = time.monotonic()
    try:
        code = worker.process.wait(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        worker.process.send_signal(signal.SIGABRT)  # its threads' stacks go to its log (PYTHONFAULTHANDLER)
        try:
            worker.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.process.kill()
        raise AssertionError(f"the worker was still running {STOP_WAIT} s after {what}:\n{worker.log_tail(12000)}")
    print(f"stopped {time.monotonic() - started:.1f} s after {what}")  # shown with -rP: the stop times measured
    return code


def assert_ended_cleanly(worker: Worker, code: int, expected_code: int = 0) -> None:
    log = worker.log_path.read_text(errors="replace")
    assert code == expected_code, log[-8000:]
    # what a pool process started (the multiprocessing resource tracker) may take a moment to see its parent gone
    wait_for(lambda: not session_processes(worker.process.pid), 10, "the worker's processes to end")
    assert "Traceback" not in log, log[-8000:]


def test_a_busy_worker_stops_on_ctrl_c_and_its_work_is_left_as_others_expect(kafka_broker, tmp_path, models_dir):
    worker = terminal_worker(kafka_broker, tmp_path, models_dir)
    try:
        task_id, stream_id = keep_busy(worker)
        # the training process is fitting (it reports progress)
        wait_for(lambda: worker.get(f"/train/status/{task_id}").json()["progress"] > 0, 120, "the fit to start")
        worker.interrupt(signal.SIGINT)
        code = wait_stopped(worker, "SIGINT")
    finally:
        worker.stop(signal.SIGKILL)
    assert_ended_cleanly(worker, code)
    assert "not stopped after" not in worker.log_path.read_text()  # stopped in order, not at the stop deadline

    entries = status_entries(worker)
    training = entries["training"][task_id]
    assert training["status"] == "failed" and "worker stopped" in training["error"], training
    stream = entries["stream"][stream_id]
    assert stream["state"] == "running" and stream["chunks_scheduled"] < stream["chunks_total"], stream


def test_a_busy_worker_whose_broker_is_gone_stops_on_sigterm(tmp_path, models_dir):
    """SIGTERM to the process group (as systemd sends it) takes the path Ctrl-C takes; here with no broker left."""
    broker = EmbeddedBroker(free_port(), tmp_path / "broker")
    broker.ensure()
    try:
        worker = terminal_worker(broker.bootstrap, tmp_path, models_dir)
        try:
            keep_busy(worker)
            broker.stop()
            worker.interrupt(signal.SIGTERM)
            code = wait_stopped(worker, "SIGTERM, broker stopped")
        finally:
            worker.stop(signal.SIGKILL)
    finally:
        broker.stop()
    assert_ended_cleanly(worker, code)


def test_a_second_ctrl_c_ends_the_worker_at_once(kafka_broker, tmp_path, models_dir):
    worker = terminal_worker(kafka_broker, tmp_path, models_dir)  # idle: its sampling process runs
    try:
        worker.interrupt(signal.SIGINT)
        wait_for(lambda: b"a second Ctrl-C or SIGTERM ends the worker at once" in worker.log_path.read_bytes(),
                 STOP_WAIT, "the worker to start stopping")
        worker.interrupt(signal.SIGINT)
        code = wait_stopped(worker, "a second SIGINT")
    finally:
        worker.stop(signal.SIGKILL)
    assert_ended_cleanly(worker, code, expected_code=128 + signal.SIGINT)
