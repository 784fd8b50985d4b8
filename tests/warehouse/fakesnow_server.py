"""A real fakesnow server (Snowflake's HTTP protocol over DuckDB) in a subprocess, for tests and the benchmark."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

from tests.server_process import ServerProcess


class FakesnowError(RuntimeError):
    """The server did not start; the message says why."""


class FakesnowServer(ServerProcess):
    """`fakesnow -s -p PORT -d DIR` on a local port, with primary keys not enforced, as on Snowflake
    (fakesnow_unenforced.py says why).

    fakesnow 0.12.1 ignores -d in server mode: its databases live in memory and end with the process.
    """

    name, error = "fakesnow", FakesnowError

    @property
    def db_dir(self) -> Path:
        return self.folder

    @property
    def connect_args(self) -> dict[str, Any]:
        """Endpoint overrides for SnowflakeWriter (fakesnow accepts any account, user and password)."""
        return {"host": "localhost", "port": self.port, "protocol": "http"}

    def command(self) -> list[str]:
        return [sys.executable, str(Path(__file__).with_name("fakesnow_unenforced.py")), "-s", "-p", str(self.port), "-d", str(self.folder)]

    def ready(self) -> bool:
        # uvicorn says so only once it has bound the port: a listener someone else left there does not count
        if "Uvicorn running on" not in self.log_tail():
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False


def start_fakesnow(folder) -> FakesnowServer:
    """A started server, or a failed test saying why (never a skip)."""
    import pytest

    try:
        return FakesnowServer(folder).start()
    except FakesnowError as exc:
        pytest.fail(f"the fakesnow server could not start: {exc}", pytrace=False)
