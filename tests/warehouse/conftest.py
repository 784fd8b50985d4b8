"""Real warehouses for the writer tests: a fakesnow server in a subprocess, and DuckDB files."""

from __future__ import annotations

import uuid

import pytest

from tests.warehouse.fakesnow_server import FakesnowServer, start_fakesnow
from warehouse.duckdb import DuckDBWriter
from warehouse.snowflake import SnowflakeWriter

# Unique per run, so finding it anywhere can only mean it leaked.
SECRET_PASSWORD = f"pw-{uuid.uuid4().hex}"


@pytest.fixture
def private_fakesnow(tmp_path):
    """A fakesnow server of the test's own, for tests that stop it."""
    server = start_fakesnow(tmp_path / "fakesnow")
    yield server
    server.stop()


def snowflake_writer_for(server: FakesnowServer, **overrides) -> SnowflakeWriter:
    """A writer on a fresh database, with short timeouts so an outage fails within seconds."""
    options = {
        "account": "cardiosynth-test", "user": "tester", "password": SECRET_PASSWORD,
        "database": f"TEST_{uuid.uuid4().hex[:12].upper()}", "attempts": 2, "retry_delay": 0.1,
        "network_timeout": 5, **server.connect_args, **overrides,
    }
    return SnowflakeWriter(**options)


@pytest.fixture
def snowflake_writer(fakesnow_server):
    writer = snowflake_writer_for(fakesnow_server)
    yield writer
    writer.close()


@pytest.fixture
def duckdb_writer(tmp_path):
    writer = DuckDBWriter(tmp_path / "warehouse.duckdb")
    yield writer
    writer.close()
