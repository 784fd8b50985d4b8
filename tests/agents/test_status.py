"""Status tables: updates set fields and add to counters; a finished entry keeps its final state."""

from __future__ import annotations

import asyncio
import uuid
from unittest import mock

import pytest

import app  # noqa: F401  # first: importing agents.* before app fails on a circular import
import agents.status as status
from agents.records import StatusUpdate
from agents.status import apply_update


def update(table="stream", key="k", changes=None, increments=None) -> StatusUpdate:
    return StatusUpdate(table=table, key=key, changes=changes or {}, increments=increments or {})


def test_a_new_entry_takes_the_changes():
    entry = apply_update(None, update(changes={"state": "running", "num_samples": 10}))
    assert entry["state"] == "running" and entry["num_samples"] == 10
    assert entry["updated_at"].endswith("+00:00")


def test_increments_add_up_from_zero():
    entry = apply_update(None, update(increments={"chunks_sent": 1, "rows_sent": 500}))
    entry = apply_update(entry, update(increments={"chunks_sent": 1, "rows_sent": 250}))
    entry = apply_update(entry, update(increments={"chunks_sent": 1, "rows_sent": 0}))
    assert entry["chunks_sent"] == 3 and entry["rows_sent"] == 750


def test_changes_and_increments_in_one_update():
    entry = apply_update({"rows_sent": 5}, update(changes={"chunks_scheduled": 2}, increments={"rows_sent": 5}))
    assert entry["rows_sent"] == 10 and entry["chunks_scheduled"] == 2


def test_the_current_entry_is_not_mutated():
    current = {"state": "running", "rows_sent": 1}
    apply_update(current, update(changes={"state": "completed"}, increments={"rows_sent": 1}))
    assert current == {"state": "running", "rows_sent": 1}


@pytest.mark.parametrize("final", ["completed", "failed", "cancelled"])
def test_a_finished_stream_keeps_its_state(final):
    entry = apply_update(None, update(changes={"state": final, "error": None}))
    entry = apply_update(entry, update(changes={"state": "running", "chunks_scheduled": 4},
                                       increments={"rows_sent": 100}))
    assert entry["state"] == final
    assert entry["chunks_scheduled"] == 4  # other fields still change
    assert entry["rows_sent"] == 100  # rows already in flight still count


@pytest.mark.parametrize("final", ["completed", "failed", "cancelled"])
def test_a_finished_training_keeps_its_status_and_progress(final):
    entry = apply_update(None, update("training", "t", changes={"status": final, "progress": 100}))
    late = update("training", "t", changes={"status": "running", "progress": 52.5})
    entry = apply_update(entry, late)
    assert entry["status"] == final and entry["progress"] == 100


def test_a_running_entry_moves_on():
    entry = apply_update(None, update("training", "t", changes={"status": "pending", "progress": 0}))
    entry = apply_update(entry, update("training", "t", changes={"status": "running", "progress": 50}))
    entry = apply_update(entry, update("training", "t", changes={"status": "completed", "progress": 100}))
    assert entry["status"] == "completed" and entry["progress"] == 100


def test_a_stream_field_named_status_is_not_the_state():
    # the stream table's state key is 'state'; 'status' is an ordinary field there
    entry = apply_update({"state": "cancelled"}, update(changes={"status": "whatever"}))
    assert entry["status"] == "whatever" and entry["state"] == "cancelled"


async def test_publish_status_sends_an_update_keyed_by_entry():
    with mock.patch.object(status.status_topic, "send", new_callable=mock.AsyncMock) as send:
        await status.publish_status("stream", "s1", increments={"rows_sent": 3})
    kwargs = send.await_args.kwargs
    assert kwargs["key"] == "s1"
    value = kwargs["value"]
    assert isinstance(value, StatusUpdate)
    assert (value.table, value.key, value.changes, value.increments) == ("stream", "s1", {}, {"rows_sent": 3})


# --- the agent, through Faust's test_context (no broker; the app's store is memory://) -----------


@pytest.fixture
def keys():
    """Unique keys, removed from the real tables afterwards so other tests see empty tables."""
    made: list[str] = []

    def new() -> str:
        made.append(f"test-{uuid.uuid4()}")
        return made[-1]

    yield new
    for table in status.TABLES.values():
        for key in made:
            table.data.pop(key, None)


async def eventually(predicate, what: str, timeout: float = 5.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_the_agent_applies_updates_to_the_global_tables(keys):
    task, stream = keys(), keys()
    async with status.apply_status_updates.test_context() as agent:
        await agent.put(update("training", task, changes={"status": "running", "progress": 5}), key=task)
        await agent.put(update("stream", stream, changes={"state": "running"}, increments={"rows_sent": 10}),
                        key=stream)
        await agent.put(update("stream", stream, increments={"rows_sent": 15}), key=stream)
        await agent.put(update("training", task, changes={"status": "completed", "progress": 100}), key=task)
        await agent.put(update("training", task, changes={"status": "running", "progress": 60}), key=task)
        await eventually(lambda: (status.streams.get(stream) or {}).get("rows_sent") == 25, "the stream counters")
        # one agent applies updates in order: once this last one shows, every earlier one was applied
        await agent.put(update("stream", stream, changes={"state": "cancelled"}), key=stream)
        await eventually(lambda: status.streams.get(stream)["state"] == "cancelled", "the cancellation")

    entry = status.training_tasks.get(task)
    assert entry["status"] == "completed" and entry["progress"] == 100
    assert status.streams.get(stream)["rows_sent"] == 25
    assert status.streams.get(task) is None and status.training_tasks.get(stream) is None


async def test_an_update_for_an_unknown_table_is_dropped(keys, caplog):
    bad, good = keys(), keys()
    async with status.apply_status_updates.test_context() as agent:
        await agent.put(update("nonsense", bad, changes={"state": "running"}), key=bad)
        await agent.put(update("stream", good, changes={"state": "running"}), key=good)
        await eventually(lambda: status.streams.get(good) is not None, "the update after the dropped one")
    assert status.streams.get(bad) is None and status.training_tasks.get(bad) is None
    assert "unknown table 'nonsense'" in caplog.text
