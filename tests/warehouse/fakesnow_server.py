"""A real fakesnow server (Snowflake's HTTP protocol over DuckDB) in a subprocess, for tests and the benchmark."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.harness import free_port


class FakesnowError(RuntimeError):
    """The server did not start; the message says why."""


class FakesnowServer:
    """`fakesnow -s -p PORT -d DIR` on a local port.

    fakesnow 0.12.1 ignores -d in server mode: its databases live in memory and end with the process.
    """

    def __init__(self, db_dir: Path, port: int | None = None):
        self.db_dir = Path(db_dir)
        self.port = port or free_port()
        self.log_path = self.db_dir / "fakesnow.log"
        self.proc: subprocess.Popen | None = None

    @property
    def connect_args(self) -> dict[str, Any]:
        """Endpoint overrides for SnowflakeWriter (fakesnow accepts any account, user and password)."""
        return {"host": "localhost", "port": self.port, "protocol": "http"}

    def start(self, timeout: float = 60.0) -> FakesnowServer:
        self.db_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:  # a fresh log: an old "running" line must not count
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fakesnow", "-s", "-p", str(self.port), "-d", str(self.db_dir)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise FakesnowError(f"fakesnow exited with code {self.proc.returncode}: {self.log_tail()}")
            # uvicorn says so only once it has bound the port: a listener someone else left there does not count
            if "Uvicorn running on" in self.log_tail():
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return self
                except OSError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise FakesnowError(f"fakesnow did not listen on port {self.port} within {timeout:.0f}s: {self.log_tail()}")

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


def start_fakesnow(folder) -> FakesnowServer:
    """A started server, or a failed test saying why (never a skip)."""
    import pytest

    try:
        return FakesnowServer(folder).start()
    except FakesnowError as exc:
        pytest.fail(f"the fakesnow server could not start: {exc}", pytrace=False)
