"""Status tables: updates set fields and add to counters; a finished entry keeps its final state."""

from __future__ import annotations

import asyncio
import uuid
from unittest import mock

import pytest

import agents.status as status
from agents.records import StatusUpdate
from agents.status import apply_update
from worker.app import app


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


# --- the fold of status-topic messages (what every worker's StatusView applies) ----------------


@pytest.fixture
def keys():
    """Unique keys, removed from this process's status view afterwards."""
    made: list[str] = []

    def new() -> str:
        made.append(f"test-{uuid.uuid4()}")
        return made[-1]

    yield new
    for table in app.worker.status.tables.values():
        for key in made:
            table.pop(key, None)


def message(value: StatusUpdate) -> bytes:
    """The bytes the status topic carries for an update (Faust's JSON serializer)."""
    return value.dumps(serializer="json")


def test_messages_fold_in_order_into_the_tables(keys):
    task, stream = keys(), keys()
    for value in (
        update("training", task, changes={"status": "running", "progress": 5}),
        update("stream", stream, changes={"state": "running"}, increments={"rows_sent": 10}),
        update("stream", stream, increments={"rows_sent": 15}),
        update("training", task, changes={"status": "completed", "progress": 100}),
        update("training", task, changes={"status": "running", "progress": 60}),
    ):
        status.apply_message(message(value))
    entry = status.training_tasks.get(task)
    assert entry["status"] == "completed" and entry["progress"] == 100
    assert status.streams.get(stream)["rows_sent"] == 25
    assert status.entry("stream", stream) is status.streams.get(stream)
    assert stream in status.streams and task not in status.streams
    assert task in status.training_tasks.keys() and entry in app.worker.status.entries("training")
    assert status.streams.get(task) is None and status.training_tasks.get(stream) is None


def test_an_update_for_an_unknown_table_is_dropped(keys, caplog):
    bad, good = keys(), keys()
    status.apply_message(message(update("nonsense", bad, changes={"state": "running"})))
    status.apply_message(message(update("stream", good, changes={"state": "running"})))
    assert status.streams.get(good)["state"] == "running"
    assert status.streams.get(bad) is None and status.training_tasks.get(bad) is None
    assert "unknown table 'nonsense'" in caplog.text


@pytest.mark.parametrize("raw", [b"not json", b"{}", b'{"table": "stream"}', None])
def test_an_unreadable_message_is_skipped(raw, caplog):
    before = {name: dict(table) for name, table in app.worker.status.tables.items()}
    status.apply_message(raw)
    assert {name: dict(table) for name, table in app.worker.status.tables.items()} == before
    assert "unreadable status update" in caplog.text


async def test_send_confirmed_sends_again_while_the_broker_refuses_and_raises_when_it_keeps_refusing():
    from aiokafka.errors import UnknownError

    from agents.status import send_confirmed

    class RefusingTopic:  # what Tansu answered for a moment after re-creating its topics
        def __init__(self, refusals: int):
            self.refusals, self.sent = refusals, []

        async def send(self, key, value):
            self.sent.append(value)
            answer = asyncio.get_running_loop().create_future()
            if len(self.sent) <= self.refusals:
                answer.set_exception(UnknownError())
            else:
                answer.set_result("metadata")
            return answer

    topic = RefusingTopic(refusals=2)
    assert await send_confirmed(topic, "k", "chunk", "chunk 0") == "metadata"
    assert topic.sent == ["chunk"] * 3
    with pytest.raises(UnknownError):
        await send_confirmed(RefusingTopic(refusals=5), "k", "chunk", "chunk 0", attempts=2)


def landing(**kinds) -> StatusUpdate:
    return StatusUpdate(table="stream", key="s", landing=kinds)


def test_landed_ranges_add_up_across_partitions():
    entry = apply_update(None, landing(landed={"0": [[0, 100]], "1": [[0, 40], [50, 60]]}))
    entry = apply_update(entry, landing(landed={"0": [[100, 150]]}, rejected={"1": [[60, 61]]}))
    assert entry["rows_landed"] == 200 and entry["rows_rejected"] == 1
    assert entry["sink_offsets"] == {"0": 150, "1": 61}


def test_a_batch_reported_again_is_counted_once():
    # written, reported, then the worker died before its commit: the next owner writes [100, 300) again,
    # and its own first batch may be smaller or larger than the one reported
    entry = apply_update(None, landing(landed={"0": [[0, 100]]}))
    entry = apply_update(entry, landing(landed={"0": [[100, 300]]}))
    entry = apply_update(entry, landing(landed={"0": [[100, 200]]}))
    entry = apply_update(entry, landing(landed={"0": [[200, 400]]}))
    assert entry["rows_landed"] == 400


def test_a_late_report_of_an_earlier_owner_adds_only_what_is_new():
    entry = apply_update(None, landing(landed={"0": [[100, 150]]}))
    entry = apply_update(entry, landing(landed={"0": [[100, 200]]}))
    assert entry["rows_landed"] == 100


def test_landings_count_on_a_finished_stream_and_the_end_stays():
    entry = apply_update(None, update(changes={"state": "cancelled", "completed_at": "t1", "error": None}))
    entry = apply_update(entry, landing(landed={"0": [[0, 10]]}))
    entry = apply_update(entry, update(changes={"state": "completed", "completed_at": "t2", "error": "late"}))
    assert (entry["state"], entry["completed_at"], entry["error"], entry["rows_landed"]) == ("cancelled", "t1", None, 10)


def test_a_sink_batch_reports_its_offsets_as_ranges():
    from agents.sink import Landing

    batch = Landing()
    for offset in (5, 3, 4, 9, 10, 20):
        batch.add("landed", "r1", 2, offset)
    batch.add("rejected", "r1", 2, 6)
    batch.add("landed", "r2", 0, 7)
    assert batch.updates() == {"r1": {"landed": {"2": [[3, 6], [9, 11], [20, 21]]}, "rejected": {"2": [[6, 7]]}},
                               "r2": {"landed": {"0": [[7, 8]]}}}
