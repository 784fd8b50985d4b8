"""The control agent: commands are parsed, invalid ones dead-lettered, valid ones handed to their handler."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from unittest import mock

import orjson
import pytest

import agents.control as control
from worker.schemas import CancelCommand, GenerateCommand, StreamCommand, TrainCommand
from worker.schemas import MAX_COMMAND_BYTES, CommandError, parse_command
from tests.harness import eventually

FALLBACK = "fallback-id"


# --- parse_command -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        (None, ["empty message"]),
        (b"{not json", ["invalid JSON"]),
        (b"", ["invalid JSON"]),
        (b"\xff\xfe", ["invalid JSON"]),
        (b"[1, 2]", ["body", "dictionary"]),
        (b'"train"', ["body", "dictionary"]),
        (b"{}", ["body", "'command'"]),
        (b'{"command": "explode"}', ["'explode'", "'command'", "'train'", "'stream'"]),
        (b'{"command": 7}', ["'command'"]),
        (b'{"command": []}', ["'command'"]),  # raised TypeError (unhashable) and stopped the agent
        (b'{"command": "stream", "num_samples": -5}', ["stream.num_samples", "greater than or equal to 1"]),
        (b'{"command": "stream"}', ["stream.num_samples", "Field required"]),
        (b'{"command": "stream", "num_samples": "many"}', ["stream.num_samples", "valid integer"]),
        (b'{"command": "stream", "num_samples": 5, "batch_size": 0}', ["stream.batch_size"]),
        (b'{"command": "stream", "num_samples": 5, "interval_seconds": -1}', ["stream.interval_seconds"]),
        (b'{"command": "stream", "num_samples": 5, "bogus": 1}', ["stream.bogus", "Extra inputs"]),
        (b'{"command": "stream", "num_samples": 99999999999}', ["stream.num_samples", "at most 10000000"]),
        (b'{"command": "generate", "num_samples": 5, "model_name": "../x"}', ["generate.model_name"]),
        (b'{"command": "generate", "num_samples": 5, "model_name": "a\\u0000b"}', ["generate.model_name"]),
        (b'{"command": "generate", "num_samples": 5, "model_version": 0}', ["generate.model_version"]),
        (b'{"command": "generate", "num_samples": 5, "seed": -1}', ["generate.seed"]),
        (b'{"command": "train", "epochs": 0}', ["train.epochs"]),
        (b'{"command": "train", "method": "ctgan", "epochs": 5001}', ["epochs must be at most 5000"]),
        (b'{"command": "train", "method": "gan"}', ["train.method", "unknown method 'gan'"]),
        (b'{"command": "cancel"}', ["cancel.id", "Field required"]),
        (b'{"command": "stream", "num_samples": true}', ["stream.num_samples", "valid integer"]),
        (b'{"command": "train", "method": "ctgan", "parameters": {"x": 1}}',
         ["train.parameters", "unknown parameter 'x' for ctgan"]),
        (b'{"command": "train", "method": "gaussian_copula", "epochs": 5}', ["train.epochs", "does not train in epochs"]),
        (b'{"command": "train", "dataset_path": 5}', ["train.dataset_path"]),
        (b'{"command": "train", "overwrite_existing": "maybe"}', ["train.overwrite_existing"]),
        (b'{"command": "stream", "num_samples": 5, "id": null}', ["stream.id"]),
        (b'{"command": "stream", "num_samples": 5, "id": "' + b"x" * 65 + b'"}', ["stream.id", "64"]),
    ],
)
def test_invalid_commands_are_rejected_naming_the_problem(raw, fragments):
    with pytest.raises(CommandError) as raised:
        parse_command(raw, FALLBACK)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_an_oversized_command_is_rejected_before_parsing():
    raw = b'{"command": "stream", "num_samples": 5, "pad": "' + b"x" * MAX_COMMAND_BYTES + b'"}'
    with pytest.raises(CommandError, match=f"command of {len(raw)} bytes exceeds {MAX_COMMAND_BYTES}"):
        parse_command(raw, FALLBACK)


def test_the_id_comes_from_the_fallback_when_missing():
    command = parse_command(b'{"command": "stream", "num_samples": 5}', FALLBACK)
    assert isinstance(command, StreamCommand)
    assert command.id == FALLBACK
    assert command.num_samples == 5 and command.batch_size == 1000


def test_a_given_id_is_kept():
    command = parse_command(b'{"command": "generate", "num_samples": 5, "id": "mine"}', FALLBACK)
    assert isinstance(command, GenerateCommand)
    assert command.id == "mine"


def test_each_command_parses_to_its_model():
    train = parse_command(b'{"command": "train", "method": "ctgan", "epochs": 3, "parameters": {"pac": 5}}', "a")
    assert isinstance(train, TrainCommand)
    assert (train.method, train.epochs, train.parameters, train.model_name) == ("ctgan", 3, {"pac": 5}, "cvd")
    assert train.dataset_path == "cvd_sample_3463.csv"
    cancel = parse_command(b'{"command": "cancel", "id": "s1"}', "b")
    assert isinstance(cancel, CancelCommand) and cancel.id == "s1"


def test_a_published_command_parses_back_to_itself():
    command = StreamCommand(command="stream", num_samples=10, batch_size=5, model_name="cvd", model_version=2)
    raw = command.model_dump_json(exclude_none=True).encode()
    assert parse_command(raw, FALLBACK) == command


async def test_publish_command_sends_json_keyed_by_id_and_returns_once_the_broker_has_it():
    command = GenerateCommand(command="generate", num_samples=3, model_name="cvd", model_version=1)
    acknowledged = asyncio.get_running_loop().create_future()  # what Faust's send returns: the broker's answer
    with mock.patch.object(control.control_topic, "send", new_callable=mock.AsyncMock,
                           return_value=acknowledged) as send:
        publishing = asyncio.ensure_future(control.publish_command(command))
        await asyncio.sleep(0.05)
        assert not publishing.done()
        acknowledged.set_result(None)
        await publishing
    send.assert_awaited_once()
    assert send.await_args.kwargs["key"] == command.id.encode()
    assert orjson.loads(send.await_args.kwargs["value"]) == {
        "command": "generate", "id": command.id, "num_samples": 3, "model_name": "cvd", "model_version": 1}


async def test_dead_letter_keeps_the_message_and_says_why():
    topic = SimpleNamespace(send=mock.AsyncMock())
    message = SimpleNamespace(key=b"k", value=b"{bad", topic="cardiosynth-control", partition=3, offset=42)
    await control.dead_letter(topic, SimpleNamespace(message=message), "invalid JSON: " + "x" * 5000)
    kwargs = topic.send.await_args.kwargs
    assert kwargs["key"] == b"k" and kwargs["value"] == b"{bad"
    headers = kwargs["headers"]
    assert headers["error"].startswith(b"invalid JSON") and len(headers["error"]) == 4096
    assert headers["source_topic"] == b"cardiosynth-control"
    assert headers["source_partition"] == b"3" and headers["source_offset"] == b"42"


# --- the agent, through Faust's test_context (no broker) -----------------------------------------


@pytest.fixture(autouse=True)
def status_view_ready():
    """The agent waits for the worker's status view; here there is no broker to read it from."""
    from worker.app import app

    app.worker.status.caught_up.set()
    yield
    app.worker.status.caught_up.clear()


@pytest.fixture
def dead_letters():
    with mock.patch.object(control, "dead_letter", new_callable=mock.AsyncMock) as dlq:
        yield dlq


@pytest.fixture
def handled():
    calls: dict[str, list] = {"train": [], "stream": [], "generate": [], "cancel": []}

    def recorder(name):
        async def handler(command):
            calls[name].append(command)
        return handler

    with mock.patch.dict(control.HANDLERS, {name: recorder(name) for name in calls}):
        yield calls


async def test_an_invalid_command_goes_to_the_dead_letter_topic(dead_letters, handled):
    async with control.carry_out_commands.test_context() as agent:
        await agent.put(b'{"command": "explode"}', key=b"k1")
        await agent.put(b'{"command": "stream", "num_samples": -5}', key=b"k2")
        await agent.put(b"{not json", key=b"k3")
        await eventually(lambda: dead_letters.await_count == 3, "three dead letters")

    topics = {call.args[0] for call in dead_letters.await_args_list}
    assert topics == {control.control_dlq_topic}
    events = [call.args[1] for call in dead_letters.await_args_list]
    assert [e.message.key for e in events] == [b"k1", b"k2", b"k3"]
    reasons = [call.args[2] for call in dead_letters.await_args_list]
    assert "'explode'" in reasons[0] and "'command'" in reasons[0]
    assert "stream.num_samples" in reasons[1]
    assert reasons[2].startswith("invalid JSON")
    assert not any(handled.values())


async def test_a_valid_command_calls_its_handler(dead_letters, handled):
    async with control.carry_out_commands.test_context() as agent:
        await agent.put(b'{"command": "stream", "num_samples": 300, "batch_size": 100, "id": "s-1"}', key=b"s-1")
        await agent.put(b'{"command": "cancel", "id": "s-1"}', key=b"s-1")
        await agent.put(b'{"command": "train", "method": "tvae", "epochs": 2}', key=b"t")
        await eventually(lambda: handled["train"], "the train handler")

    assert [(c.id, c.num_samples, c.batch_size) for c in handled["stream"]] == [("s-1", 300, 100)]
    assert [c.id for c in handled["cancel"]] == ["s-1"]
    (train,) = handled["train"]
    assert isinstance(train, TrainCommand) and train.method == "tvae" and train.epochs == 2
    dead_letters.assert_not_awaited()


async def test_a_command_without_id_gets_one_derived_from_its_offset(dead_letters, handled):
    async with control.carry_out_commands.test_context() as agent:
        event = await agent.put(b'{"command": "generate", "num_samples": 5}', key=b"g")
        await eventually(lambda: handled["generate"], "the generate handler")
    message = event.message
    expected = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{message.topic}/{message.partition}/{message.offset}"))
    assert handled["generate"][0].id == expected
    assert message.topic == control.control_topic.get_topic_name()


async def test_a_failing_handler_dead_letters_the_command_and_the_agent_goes_on(dead_letters, handled):
    async def broken(command):
        raise RuntimeError("disk full")

    with mock.patch.dict(control.HANDLERS, {"train": broken}):
        async with control.carry_out_commands.test_context() as agent:
            await agent.put(b'{"command": "train"}', key=b"t")
            await agent.put(b'{"command": "cancel", "id": "after"}', key=b"c")
            await eventually(lambda: handled["cancel"], "the command after the failure")

    dead_letters.assert_awaited_once()
    assert dead_letters.await_args.args[2] == "RuntimeError: disk full"
    assert [c.id for c in handled["cancel"]] == ["after"]
