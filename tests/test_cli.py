"""The `cardiosynth` commands against the API served on a real port (Kafka cut out), and against a real worker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from faust.cli.base import cli as faust_cli
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families

import cardiosynth.main as app_module  # the app with its commands registered
import agents.status as status
import worker.settings as settings_module
from worker.schemas import CancelCommand, StreamCommand, TrainCommand
from worker.app import app
from tests.harness import CARDIOSYNTH, ROOT, Worker, free_port, wait_for
from tests.live_app import LiveApp, kafka_cut_out  # noqa: F401  # a fixture


def cardiosynth(*args: str):
    """Run a command in this process, as `cardiosynth ARGS` would, and return click's result."""
    return CliRunner().invoke(faust_cli, list(args), app=app_module.app, prog_name="cardiosynth")


def error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture
def live(kafka_cut_out):
    with LiveApp() as api:
        api.published = kafka_cut_out
        yield api


@pytest.fixture
def stand_in_model(live):
    """A model 'cvd' in the (private) store: a stand-in synthesizer file, never unpickled by these views."""
    store = app.worker.store
    staging = store.staging_dir()
    (staging / "synthesizer.pkl").write_bytes(b"stand-in")
    (staging / "metadata.json").write_text("{}")
    store.publish("cvd", staging, {"method": "gaussian_copula", "rows": 3463, "dataset_path": "cvd_sample_3463.csv",
                                   "columns": [{"name": "bmi", "sdtype": "numerical"}], "parameters": {},
                                   "training_seconds": 1.0, "versions": {"sdv": "2.0.0"}})
    return "cvd"


# --- failures: one line on stderr, exit 1 ---------------------------------------------------------


@pytest.mark.parametrize("args", [["train"], ["generate", "5"], ["stream", "5"], ["status"], ["models"]],
                         ids=lambda a: a[0])
def test_an_unreachable_worker_is_one_clear_line(args):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = cardiosynth(*args, "--url", url)
    assert result.exit_code == 1
    assert error_line(result) == (f"Error: cannot reach the cardiosynth API at {url}: "
                                  "is `cardiosynth worker` running?")
    assert result.stdout == ""


def test_a_url_that_is_not_one_says_so():
    result = cardiosynth("models", "--url", "localhost-8000")
    assert result.exit_code == 1
    assert "invalid --url 'localhost-8000'" in error_line(result)


@pytest.mark.parametrize("args, says", [
    (["train", "--method", "gan"], "unknown method 'gan'; available: ['arf', 'cart', 'copulagan', 'ctgan', 'gaussian_copula', 'mst', 'tvae']"
                                   " (HTTP 422 from POST /train)"),
    (["train", "--method", "gaussian_copula", "--epochs", "5"], "does not train in epochs"),
    (["generate", "200000"], "num_samples must be at most 100000 when returned inline (HTTP 422"),
    (["generate", "5", "--model", "nope"], "model 'nope' not found; train it with POST /train first (HTTP 404"),
    (["stream", "5", "--model", "a.b"], "model_name: String should match pattern"),
], ids=["unknown-method", "epochs-for-copula", "too-many-inline", "unknown-model", "bad-model-name"])
def test_the_api_error_message_is_shown(live, args, says):
    result = cardiosynth(*args, "--url", live.url)
    assert result.exit_code == 1
    assert says in error_line(result)
    live.published.assert_not_called()


def test_bad_arguments_are_refused_before_any_request(live):
    result = cardiosynth("generate", "0", "--url", live.url)
    assert result.exit_code == 2 and "Invalid value for 'NUM'" in result.stderr
    assert live.requests == []


def test_send_command_checks_the_command_first(monkeypatch):
    monkeypatch.setattr(settings_module.get_settings(), "kafka_bootstrap_servers", f"127.0.0.1:{free_port()}")
    result = cardiosynth("send-command", '{"command": "stream", "num_samples": -1}')
    assert result.exit_code == 1 and "not a valid command: stream.num_samples" in error_line(result)
    result = cardiosynth("send-command", "@/nonexistent/command.json")
    assert result.exit_code == 1 and "cannot read /nonexistent/command.json" in error_line(result)
    result = cardiosynth("send-command", '{"command": "cancel", "id": "s-1"}')  # valid, but no broker there
    assert result.exit_code == 1 and "cannot send to Kafka at 127.0.0.1:" in error_line(result)


# --- following work, with the status tables filled as the status agent would -----------------------


def test_train_follows_the_task_until_it_completes(live, tables):
    def carry_out(command):
        assert isinstance(command, TrainCommand)
        tables(status.training_tasks, command.id, {
            "task_id": command.id, "status": "completed", "progress": 100, "model_name": command.model_name,
            "method": command.method, "created_at": datetime.now(timezone.utc).isoformat(),
            "result": {"model_name": command.model_name, "model_version": 3, "dataset_rows": 3463,
                       "training_time": 1.5}})

    live.published.side_effect = carry_out
    result = cardiosynth("train", "--method", "gaussian_copula", "--model", "heart", "--url", live.url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "trained model 'heart' version 3 on 3463 rows in 1.5s"
    task_id = live.published.await_args.args[0].id
    assert ("GET", f"/train/status/{task_id}") in live.requests


def test_status_and_models_print_tables_or_json(live):
    result = cardiosynth("status", "--url", live.url)
    assert result.exit_code == 0, result.stderr
    for title in ("health: ok", "training tasks", "streams", "broker", "warehouse", "model_store"):
        assert title in result.stdout
    result = cardiosynth("--json", "models", "--url", live.url)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"models": [], "total_count": 0, "default_model": "cvd",
                                               "model_when_unnamed": None}


def cli_in_a_terminal(*args: str) -> subprocess.Popen:
    """`cardiosynth ARGS` as a terminal starts it, with SIGINT (Ctrl-C) at its default disposition.

    A shell without job control starts background commands with SIGINT ignored, and children inherit
    that: in a CI job started so, the CLI never saw the test's SIGINT and these tests timed out.
    PYTHONFAULTHANDLER: should the CLI not exit anyway, SIGABRT makes it print every thread's stack."""
    return subprocess.Popen([CARDIOSYNTH, *args], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONFAULTHANDLER": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def ctrl_c_while_following(live, tables, *args: str, cancel_delay: float = 0.0) -> tuple[str, str, int]:
    """Start `cardiosynth stream 1000 ARGS`, press Ctrl-C once it follows its stream; (stream id, stderr, exit code).

    Stream commands become running entries in the status view; a cancel is accepted after cancel_delay seconds."""
    async def carry_out(command):
        if isinstance(command, StreamCommand):
            tables(status.streams, command.id, {
                "stream_id": command.id, "kind": "stream", "state": "running", "num_samples": command.num_samples,
                "rows_sent": 0, "created_at": datetime.now(timezone.utc).isoformat()})
        elif cancel_delay:
            await asyncio.sleep(cancel_delay)

    live.published.side_effect = carry_out
    process = cli_in_a_terminal("stream", "1000", "--url", live.url, *args)
    try:
        wait_for(lambda: any(m == "GET" and p.startswith("/stream/") for m, p in live.requests), 60,
                 "the CLI to follow its stream")
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            _, err = process.communicate(timeout=30)
            raise AssertionError(f"the CLI was still running 60 s after Ctrl-C; requests served: {live.requests}; "
                                 f"its threads and stderr:\n{err[-8000:]}") from None
    finally:
        process.kill()
    return live.published.await_args_list[0].args[0].id, err, process.returncode


def test_ctrl_c_cancels_the_stream_it_follows(live, tables, stand_in_model):
    stream_id, err, code = ctrl_c_while_following(live, tables, "--model", stand_in_model)
    assert code == 130, err
    assert ("DELETE", f"/stream/{stream_id}") in live.requests
    cancel = live.published.await_args_list[-1].args[0]
    assert isinstance(cancel, CancelCommand) and cancel.id == stream_id
    assert f"stream {stream_id}: cancelling" in err


def test_ctrl_c_ends_the_command_when_the_cancel_gets_no_answer(live, tables, stand_in_model):
    """Ctrl-C waits --cancel-wait seconds for the API to accept the cancel, then says so and exits 1."""
    # the cancel is accepted after 5 s: too late, the CLI gave up after 1 s
    stream_id, err, code = ctrl_c_while_following(live, tables, "--model", stand_in_model, "--cancel-wait", "1",
                                                  cancel_delay=5)
    assert code == 1, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"Error: stream {stream_id} may still be running, the cancel failed: DELETE ")
    assert f'cardiosynth send-command \'{{"command": "cancel", "id": "{stream_id}"}}\'' in lines[-1]


# --- the real thing: a worker on the embedded broker ----------------------------------------------


@pytest.mark.integration
def test_train_generate_and_a_raw_command_against_a_real_worker(kafka_broker, tmp_path):
    """The CLI as a user runs it; then /metrics and /openapi.json of that worker."""
    worker = Worker(kafka_broker, tmp_path).start()

    def run(*args: str) -> subprocess.CompletedProcess:
        # the CLI reads settings (topics, broker) from the environment, as the worker does
        return subprocess.run([CARDIOSYNTH, *args], cwd=ROOT, env=worker.env, capture_output=True, text=True,
                              timeout=300)

    try:
        trained = run("train", "--method", "gaussian_copula", "--url", worker.url)
        assert trained.returncode == 0, trained.stderr
        assert trained.stdout.startswith("trained model 'cvd' version 1 on 3463 rows")

        generated = run("generate", "5", "--format", "jsonl", "--seed", "7", "--url", worker.url)
        assert generated.returncode == 0, generated.stderr
        records = [json.loads(line) for line in generated.stdout.splitlines()]
        assert len(records) == 5
        assert len({r["record_id"] for r in records}) == 5
        assert all(r["model_name"] == "cvd" and r["model_version"] == 1 and r["bmi"] is not None for r in records)

        sent = run("send-command", '{"command": "stream", "id": "cli-raw-1", "num_samples": 300, "batch_size": 100}')
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.startswith(f"sent stream cli-raw-1 to {worker.topic('CONTROL_TOPIC')} partition ")
        assert worker.wait_stream("cli-raw-1")["rows_landed"] == 300

        state = run("--json", "status", "--url", worker.url)
        assert state.returncode == 0, state.stderr
        assert json.loads(state.stdout)["streams"][0]["stream_id"] == "cli-raw-1"

        # the worker's own endpoints, where Faust adds its views and the sink's consumer is real
        validate(worker.get("/openapi.json").json())
        families = {f.name: f for f in text_string_to_metric_families(worker.get("/metrics").text)}
        assert families["cardiosynth_records_generated"].samples[0].value == 300
        assert families["cardiosynth_sink_records_landed"].samples[0].value == 300
        lag = families["cardiosynth_sink_consumer_lag"].samples
        assert lag and {s.labels["topic"] for s in lag} == {worker.topic("RECORDS_TOPIC")}
        assert all(s.value >= 0 for s in lag)
    finally:
        worker.stop()


def test_sql_without_a_worker_reads_the_duckdb_file(tmp_path):
    """No worker at --url: `cardiosynth sql` opens the DuckDB file itself, read-only (the README's query, CSV when piped)."""
    from tests.warehouse.rows import make_rows
    from warehouse.duckdb import DuckDBWriter

    path = tmp_path / "warehouse.duckdb"
    writer = DuckDBWriter(path)
    writer.write(make_rows(30))
    writer.close()
    env = {**os.environ, "DUCKDB_PATH": str(path), "WAREHOUSE": "duckdb"}
    url = f"http://127.0.0.1:{free_port()}"

    def run(query: str) -> subprocess.CompletedProcess:
        return subprocess.run([CARDIOSYNTH, "sql", query, "--url", url], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)

    done = run("SELECT heart_disease, COUNT(*) as count FROM CARDIOVASCULAR_DB.SYNTHETIC_DATA.PATIENT_DATA "
               "GROUP BY heart_disease ORDER BY heart_disease;")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "heart_disease,count" and sum(int(line.split(",")[1]) for line in lines[1:]) == 30
    refused = run("DROP TABLE PATIENT_DATA")
    assert refused.returncode == 1 and "DROP statements are refused" in refused.stderr
