"""Pool processes end with their worker: a killed worker must not leave a training running on."""

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
