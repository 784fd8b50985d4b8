"""A test server in a subprocess on a loopback port: started until it says it is ready, or a clear error."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.harness import free_port


class ServerProcess:
    """Subclasses give `name`, `error` (the exception to raise), `command()` and `ready()`."""

    name = "server"
    error: type[Exception] = RuntimeError

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = Path(folder)
        self.port = port or free_port()
        self.log_path = self.folder / f"{self.name}.log"
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        """True once this process (not a stray listener on the port) answers."""
        raise NotImplementedError

    def start(self, timeout: float = 60.0):
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:  # a fresh log: an old "running" line must not count
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise self.error(f"{self.name} exited with code {self.proc.returncode}: {self.log_tail()}")
            if self.ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise self.error(f"{self.name} did not answer on port {self.port} within {timeout:.0f}s: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:] or "(empty log)"
        except OSError as exc:
            return f"(no log: {exc})"
