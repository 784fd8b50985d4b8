"""A real moto S3 server in a subprocess on a loopback port, for the model store's tests."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.harness import free_port

KEY_ID, SECRET = "testing-key-id", "testing-secret"  # moto accepts any credentials
REGION = "us-east-1"


class MotoError(RuntimeError):
    """The server did not start; the message says why."""


class MotoS3Server:
    """`python -m moto.server -H 127.0.0.1 -p PORT`; buckets live in memory and end with the process."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = Path(folder)
        self.port = port or free_port()
        self.log_path = self.folder / "moto.log"
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """The settings a worker needs to use this server."""
        return {"MODELS_S3_ENDPOINT_URL": self.endpoint_url, "MODELS_S3_REGION": REGION,
                "MODELS_S3_ACCESS_KEY_ID": KEY_ID, "MODELS_S3_SECRET_ACCESS_KEY": SECRET}

    @property
    def storage_options(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint_url, "key": KEY_ID, "secret": SECRET,
                "client_kwargs": {"region_name": REGION}}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=KEY_ID,
                            aws_secret_access_key=SECRET, region_name=REGION)

    def new_bucket(self) -> str:
        name = f"models-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def start(self, timeout: float = 60.0) -> MotoS3Server:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise MotoError(f"moto exited with code {self.proc.returncode}: {self.log_tail()}")
            try:
                # moto's own API answers only once the server is up: a stray listener on the port does not
                if requests.get(f"{self.endpoint_url}/moto-api/data.json", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise MotoError(f"moto did not answer on port {self.port} within {timeout:.0f}s: {self.log_tail()}")

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


def start_moto(folder) -> MotoS3Server:
    """A started server, or a failed test saying why (never a skip)."""
    import pytest

    try:
        return MotoS3Server(folder).start()
    except MotoError as exc:
        pytest.fail(f"the moto S3 server could not start: {exc}", pytrace=False)
