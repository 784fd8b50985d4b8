"""Pool processes: they get the worker's model store, and end with their worker (a killed worker must not
leave a training running on)."""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(parent: int | None = None, poll_seconds: float = 1.0) -> None:
    """Start a daemon thread that ends this process once its parent is gone (kill -9 included).

    `parent` is the worker's pid as the worker gave it: a worker killed while this process was still
    starting has already handed it to init (pid 1), and os.getppid() alone would not tell."""
    parent = parent or os.getppid()
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# Spawned processes receive the worker's store, S3 options included: jobs and chunks name it by location only.
def init_sampling(store, parent: int | None = None, niceness: int = 0) -> None:
    """Sampling pool initializer."""
    from models_store import use_store

    use_store(store)
    exit_with_parent(parent)
    lower_priority(niceness)


def init_training(progress_queue, store, parent: int | None = None, niceness: int = 0) -> None:
    """Training pool initializer: also keeps the queue progress events go back through."""
    from models_store import use_store
    from synthesis.training import init_process

    use_store(store)
    init_process(progress_queue, parent)
    lower_priority(niceness)


def lower_priority(niceness: int) -> None:
    """Fitting and sampling yield the CPU to the worker's event loop, so the API answers while they run."""
    if niceness > 0:
        os.nice(niceness)
