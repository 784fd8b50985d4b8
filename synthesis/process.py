"""Pool processes: they get the worker's model store, and end with their worker (a killed worker must not
leave a training running on).

Stopping is the worker's business: a terminal sends Ctrl-C to its whole process group, and a pool process
that took it would die mid-task with a KeyboardInterrupt traceback, breaking its pool while the worker
still stops in order. So a pool process ignores SIGINT and SIGTERM from its first instruction (the
signals are blocked while it is started, and the mask survives exec; its initializer then ignores
them) and leads a process group of its own; the worker kills that group when it stops
(PoolContext.end): the process with the ones it started (joblib's loky processes, during a CTGAN fit).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import weakref
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import resource_tracker
from multiprocessing.context import SpawnContext, SpawnProcess

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class PoolProcess(SpawnProcess):
    """A spawned process that starts with the stop signals blocked (see the module docstring)."""

    def start(self) -> None:
        resource_tracker.ensure_running()  # starting the tracker unblocks these signals: start it before
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


class PoolContext(SpawnContext):
    """spawn (torch misbehaves in forked children) with PoolProcess; it knows the processes it started, to end them."""

    def __init__(self) -> None:
        super().__init__()
        self.processes: weakref.WeakSet[PoolProcess] = weakref.WeakSet()

    def Process(self, *args, **kwargs) -> PoolProcess:  # noqa: N802 - multiprocessing's name
        process = PoolProcess(*args, **kwargs)
        self.processes.add(process)
        return process

    def kill(self) -> None:
        """Kill every process started and still running, with the processes it started (they ignore SIGTERM)."""
        for process in list(self.processes):
            if process.pid is not None and process.exitcode is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)  # the group it leads
                except OSError:  # still starting: it leads no group yet, and has started nothing
                    process.kill()

    def end(self, pool: ProcessPoolExecutor, timeout: float = 5.0) -> None:
        """Shut a pool down with its processes killed, tasks in progress included.

        Killed first, the processes leave the pool's manager thread nothing to wait for (it would join a
        busy one forever, and the interpreter joins that thread at exit). Killed again until the pool is
        shut: the pool replaces a process that ended its last task (max_tasks_per_child) even then."""
        shutting = threading.Thread(target=pool.shutdown, kwargs={"cancel_futures": True}, daemon=True,
                                    name="pool-shutdown")
        shutting.start()
        deadline = time.monotonic() + timeout
        while shutting.is_alive() and time.monotonic() < deadline:
            self.kill()
            shutting.join(0.05)


def leave_stopping_to_the_worker() -> None:
    """First thing in a pool process: SIGINT and SIGTERM ignored (by its children too), and a process group of its own."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    os.setpgid(0, 0)


def keep_tqdm_lock_local() -> None:
    """tqdm's default lock is a named semaphore: a pool process killed at the worker's stop could not
    release it, and the resource tracker would warn about the leak on the worker's terminal. Progress
    bars are never shared between processes here, so a thread lock does."""
    import tqdm

    tqdm.tqdm.set_lock(threading.RLock())


def _exit_with_children() -> None:
    if os.getpgid(0) == os.getpid():
        os.killpg(0, signal.SIGKILL)  # a pool process: it and the processes it started
    os._exit(1)


def exit_with_parent(parent: int | None = None, poll_seconds: float = 1.0) -> None:
    """Start a daemon thread that ends this process once its parent is gone (kill -9 included).

    `parent` is the worker's pid as the worker gave it: a worker killed while this process was still
    starting has already handed it to init (pid 1), and os.getppid() alone would not tell."""
    parent = parent or os.getppid()
    if os.getppid() != parent:
        _exit_with_children()

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                _exit_with_children()

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# Spawned processes receive the worker's store, S3 options included: jobs and chunks name it by location only.
def init_sampling(store, parent: int | None = None, niceness: int = 0) -> None:
    """Sampling pool initializer."""
    leave_stopping_to_the_worker()
    keep_tqdm_lock_local()
    from models_store import use_store

    use_store(store)
    exit_with_parent(parent)
    lower_priority(niceness)


def init_training(progress_queue, store, parent: int | None = None, niceness: int = 0) -> None:
    """Training pool initializer: also keeps the queue progress events go back through."""
    leave_stopping_to_the_worker()
    keep_tqdm_lock_local()
    from models_store import use_store
    from synthesis.training import init_process

    use_store(store)
    exit_with_parent(parent)
    init_process(progress_queue)
    lower_priority(niceness)


def lower_priority(niceness: int) -> None:
    """Fitting and sampling yield the CPU to the worker's event loop, so the API answers while they run."""
    if niceness > 0:
        os.nice(niceness)
