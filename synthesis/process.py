"""Pool processes: they get the worker's model store, and end with their worker (a killed worker must not
leave a training running on)."""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """Start a daemon thread that ends this process once its parent is gone (kill -9 included)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# Spawned processes receive the worker's store, S3 options included: jobs and chunks name it by location only.
def init_sampling(store) -> None:
    """Sampling pool initializer."""
    from models_store import use_store

    use_store(store)
    exit_with_parent()


def init_training(progress_queue, store) -> None:
    """Training pool initializer: also keeps the queue progress events go back through."""
    from models_store import use_store
    from synthesis.training import init_process

    use_store(store)
    init_process(progress_queue)
