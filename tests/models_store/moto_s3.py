"""A real moto S3 server in a subprocess on a loopback port, for the model store's tests."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.server_process import ServerProcess

KEY_ID, SECRET = "testing-key-id", "testing-secret"  # moto accepts any credentials
REGION = "us-east-1"


class MotoError(RuntimeError):
    """The server did not start; the message says why."""


class MotoS3Server(ServerProcess):
    """`python -m moto.server -H 127.0.0.1 -p PORT`; buckets live in memory and end with the process."""

    name, error = "moto", MotoError

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

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def ready(self) -> bool:
        try:
            # moto's own API answers only once the server is up: a stray listener on the port does not
            return requests.get(f"{self.endpoint_url}/moto-api/data.json", timeout=1).ok
        except requests.RequestException:
            return False


def start_moto(folder) -> MotoS3Server:
    """A started server, or a failed test saying why (never a skip)."""
    import pytest

    try:
        return MotoS3Server(folder).start()
    except MotoError as exc:
        pytest.fail(f"the moto S3 server could not start: {exc}", pytrace=False)
