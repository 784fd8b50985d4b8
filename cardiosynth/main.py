"""The worker assembled: its agents, its HTTP API and the `cardiosynth` commands on the one Faust app.

`cardiosynth worker -l info` runs a worker; with no Kafka servers configured, `main()` first starts the
embedded broker and creates the app's topics.
"""

from __future__ import annotations

import asyncio
import atexit
import sys

# Importing these modules registers their agents, timers and services on the app.
import agents.control  # noqa: F401
import agents.generation  # noqa: F401
import agents.lost_topics  # noqa: F401
import agents.record_sink  # noqa: F401
import agents.recovery  # noqa: F401
import agents.status  # noqa: F401
import agents.training  # noqa: F401
import cardiosynth.cli  # noqa: F401  # the client commands, beside Faust's own
import cardiosynth.lifecycle  # noqa: F401
from broker.embedded import EmbeddedBroker
from broker.security import client_options
from broker.topics import ensure_topics, topic_configs
from web.dashboard import WorkerWeb
from web.routes import install
from worker.app import app
from worker.settings import get_settings
from worker.state import Worker

app.web_class = WorkerWeb
app.web_installer = install


def prepare_broker() -> None:
    """Start the embedded broker if no servers are configured, then create the app's topics."""
    settings = get_settings()
    if settings.uses_embedded_broker:
        broker = EmbeddedBroker(settings.embedded_broker_port, settings.state_dir)
        if broker.ensure():
            atexit.register(broker.stop)
    asyncio.run(
        ensure_topics(
            settings.bootstrap_servers, settings.topic_names, settings.topic_partitions,
            settings.topic_replication_factor, configs=topic_configs(settings), **client_options(settings),
        )
    )


def main() -> None:
    """Console script `cardiosynth`: the Faust CLI of this app."""
    settings = get_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        prepare_broker()
        app.worker = Worker(settings)
    app.main()


if __name__ == "__main__":
    main()
