"""Session-wide real parts: the embedded Kafka-protocol broker (fails the run if it cannot start)."""

from __future__ import annotations

import os
import tempfile

import pytest

# In-process tests (agents, views) get their own state and model store, never the user's.
_SCRATCH = tempfile.mkdtemp(prefix="cardiosynth-tests-")
os.environ.setdefault("STATE_DIR", os.path.join(_SCRATCH, "state"))
os.environ.setdefault("MODELS_DIR", os.path.join(_SCRATCH, "models"))

from broker.embedded import BrokerError, EmbeddedBroker
from tests.harness import free_port


@pytest.fixture(scope="session", autouse=True)
def worker_object():
    """The worker object in-process tests of agents and views use (a worker process makes its own at start)."""
    from worker.app import app
    from worker.settings import get_settings
    from worker.state import Worker

    if app.worker is None:
        app.worker = Worker(get_settings())
    yield app.worker
    app.worker.close()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory):
    broker = EmbeddedBroker(free_port(), tmp_path_factory.mktemp("broker"))
    try:
        broker.ensure()
    except BrokerError as exc:
        pytest.fail(f"the embedded Tansu broker could not start: {exc}", pytrace=False)
    yield broker.bootstrap
    broker.stop()


@pytest.fixture(scope="session")
def fakesnow_server(tmp_path_factory):
    """One Snowflake-compatible server for the session; each user of it takes its own database."""
    from tests.warehouse.fakesnow_server import start_fakesnow

    server = start_fakesnow(tmp_path_factory.mktemp("fakesnow"))
    yield server
    server.stop()


@pytest.fixture
def tables():
    """Entries put straight into the status view (as folding the status topic would), removed afterwards."""
    made: list[tuple[object, str]] = []

    def put(table, key: str, entry: dict) -> None:
        table.data[key] = entry
        made.append((table, key))

    yield put
    for table, key in made:
        table.data.pop(key, None)


def pytest_collection_modifyitems(config, items):
    """A test on the session's broker must be marked integration (`-m "not integration"` must not start it)."""
    unmarked = [item.nodeid for item in items
                if "kafka_broker" in getattr(item, "fixturenames", ()) and item.get_closest_marker("integration") is None]
    if unmarked:
        raise pytest.UsageError(f"tests using the real broker without the integration marker: {unmarked}")
