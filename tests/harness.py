"""Real parts for tests: the embedded broker and worker processes, started and stopped by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
CARDIOSYNTH = str(Path(sys.executable).with_name("cardiosynth"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll predicate() until it returns something truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (requests.RequestException, KeyError, ValueError) as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error})")


def train_sample_model(root: Path, name: str = "cvd", method: str = "gaussian_copula") -> str:
    """Train `method` on the bundled sample straight into the model store at root (no worker); returns root."""
    from synthesis.training import train_model

    dataset = ROOT / "data" / "cvd_sample_3463.csv"
    train_model({"task_id": "t", "dataset_file": str(dataset), "dataset_path": dataset.name, "model_name": name,
                 "method": method, "epochs": None, "parameters": {}, "models_dir": str(root)})
    return str(root)


async def eventually(predicate, what: str, timeout: float = 5.0) -> None:
    """The bounded wait of an async test: poll predicate() on the event loop; fail with `what` after timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class Worker:
    """A `cardiosynth worker` process with its own topics, app id, state and model directories."""

    def __init__(self, bootstrap: str, tmp: Path, **env: str):
        self.uid = uuid.uuid4().hex[:8]
        self.port = free_port()
        self.tmp = tmp
        self.log_path = tmp / f"worker-{self.uid}.log"
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "APP_ID": f"cs-test-{self.uid}",
            "WEB_PORT": str(self.port),
            "STATE_DIR": str(tmp / "state"),
            "MODELS_DIR": str(tmp / "models"),
            "DATA_DIR": str(ROOT / "data"),
            "CONTROL_TOPIC": f"control-{self.uid}",
            "GENERATION_TOPIC": f"generation-{self.uid}",
            "STATUS_TOPIC": f"status-{self.uid}",
            "RECORDS_TOPIC": f"records-{self.uid}",
            "DLQ_TOPIC": f"records-dlq-{self.uid}",
            "SINK_BATCH_SECONDS": "0.3",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None
        self.log_level = "info"

    def twin(self, log_name: str, **env: str) -> "Worker":
        """Another worker process of the same app (same group, topics, model store); `env` overrides."""
        other = Worker.__new__(Worker)
        other.__dict__.update(self.__dict__)
        other.process = None
        other.log_path = self.tmp / log_name
        other.env = {**self.env, **env}
        if "WEB_PORT" in env:
            other.port = int(env["WEB_PORT"])
        return other

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def topic(self, name: str) -> str:
        return self.env[name]

    def start(self, timeout: float = 90, terminal: bool = False) -> "Worker":
        """Start the worker and wait until it serves; `terminal`: as a terminal starts it (see `interrupt`)."""
        started_at = self.log_path.stat().st_size if self.log_path.exists() else 0  # a restart appends
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [CARDIOSYNTH, "worker", "-l", self.log_level], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=terminal,
            # SIGINT at its default: a shell without job control starts background jobs with it ignored
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if terminal else None,
        )
        log.close()

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
            return b"Worker]: Ready" in self.log_path.read_bytes()[started_at:]

        wait_for(ready, timeout, f"the worker to join its group (log {self.log_path})")
        wait_for(lambda: requests.get(f"{self.url}/health", timeout=5).status_code == 200, 30, "/health")
        return self

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_bytes()[-chars:].decode(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def interrupt(self, sig: int = signal.SIGINT) -> None:
        """Send `sig` to the worker's process group, as Ctrl-C in its terminal does (started with terminal=True)."""
        os.killpg(self.process.pid, sig)

    def get(self, path: str, **kw):
        return requests.get(f"{self.url}{path}", timeout=30, **kw)

    def post(self, path: str, **kw):
        return requests.post(f"{self.url}{path}", timeout=60, **kw)

    def delete(self, path: str, **kw):
        return requests.delete(f"{self.url}{path}", timeout=30, **kw)

    def wait_training(self, task_id: str, timeout: float = 300) -> dict:
        def done():
            body = self.get(f"/train/status/{task_id}").json()
            return body if body.get("status") in ("completed", "failed") else None

        return wait_for(done, timeout, f"training task {task_id}", interval=0.3)

    def wait_stream(self, stream_id: str, timeout: float = 300) -> dict:
        def done():
            body = self.get(f"/stream/{stream_id}").json()
            return body if body.get("state") in ("completed", "failed", "cancelled") else None

        return wait_for(done, timeout, f"stream {stream_id}", interval=0.3)


def session_processes(session: int) -> list[str]:
    """The processes still running in a session (zombies aside), as 'pid state command' lines."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        state, _ppid, _pgrp, sid = text.rsplit(")", 1)[1].split()[:4]
        if int(sid) == session and state != "Z":
            found.append(f"{stat.parent.name} {state} {cmdline.strip()}")
    return found


async def _status_entries(bootstrap: str, topic: str) -> dict[str, dict[str, dict]]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from agents.status import apply_update
    from agents.records import StatusUpdate

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    entries: dict[str, dict[str, dict]] = {"training": {}, "stream": {}}
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while batch := await consumer.getmany(timeout_ms=1000, max_records=10_000):
            for message in sorted((m for ms in batch.values() for m in ms), key=lambda m: (m.partition, m.offset)):
                update = StatusUpdate.from_data(json.loads(message.value))
                table = entries[update.table]
                table[update.key] = apply_update(table.get(update.key), update)
    finally:
        await consumer.stop()
    return entries


def status_entries(worker: Worker) -> dict[str, dict[str, dict]]:
    """Training and stream entries as any worker folds them from the worker's status topic (read here, from the start)."""
    return asyncio.run(_status_entries(worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.topic("STATUS_TOPIC")))


@contextlib.contextmanager
def trained_pipeline(prefix: str, method: str = "gaussian_copula", **env: str):
    """An embedded broker and a worker with a model of `method` trained (for benchmarks); stopped after."""
    import tempfile

    from broker.embedded import EmbeddedBroker

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    broker = EmbeddedBroker(free_port(), tmp / "broker")
    broker.ensure()
    worker = Worker(broker.bootstrap, tmp, **env)
    try:
        worker.start()
        task = worker.post("/train", json={"method": method}).json()
        assert worker.wait_training(task["task_id"])["status"] == "completed"
        yield broker, worker
    finally:
        worker.stop()
        broker.stop()


async def _sink_view(worker: Worker) -> tuple[dict[int, int], list[tuple[int, int, bytes | None]]]:
    """(offset the sink committed per partition, (partition, offset, key) of every record on the broker)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    bootstrap, topic = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.topic("RECORDS_TOPIC")
    # the sink's group id, but never subscribed: this consumer reads the group's offsets without joining it
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=f"{worker.env['APP_ID']}-sink",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert partitions, f"no partitions for {topic}"
        committed = {tp.partition: (await consumer.committed(tp)) or 0 for tp in partitions}
        # Tansu answers ListOffsets(latest) with a batch's offset, not the log end: read and count instead
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        on_broker = []
        while batch := await consumer.getmany(timeout_ms=500, max_records=100_000):
            on_broker += [(m.partition, m.offset, m.key) for messages in batch.values() for m in messages]
    finally:
        await consumer.stop()
    return committed, on_broker


def sink_offsets(worker: Worker) -> tuple[int, int]:
    """(offsets the sink committed, records on the broker) of a worker's records topic."""
    committed, on_broker = asyncio.run(_sink_view(worker))
    return sum(committed.values()), len(on_broker)


def sink_committed(worker: Worker) -> dict[int, int]:
    """The offset the sink committed on each partition of the records topic: what it acknowledged."""
    return asyncio.run(_sink_view(worker))[0]


def records_from(worker: Worker, committed: dict[int, int]) -> list[str]:
    """The record_ids (message keys) on the broker at or after those offsets: what was not acknowledged."""
    on_broker = asyncio.run(_sink_view(worker))[1]
    return [key.decode() for partition, offset, key in on_broker if offset >= committed.get(partition, 0)]


async def redeliver(bootstrap: str, topic: str, max_records: int) -> int:
    """Produce the first messages of a topic again (a replay after a crash); returns how many."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    messages = []
    try:  # a fetch may answer with part of what is there: fetch until max_records or nothing more comes
        while len(messages) < max_records and (
                batch := await consumer.getmany(timeout_ms=5000, max_records=max_records - len(messages))):
            messages += [m for msgs in batch.values() for m in msgs]
    finally:
        await consumer.stop()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for m in messages:
            await producer.send(topic, m.value, key=m.key)
        await producer.flush()
    finally:
        await producer.stop()
    return len(messages)
