"""Property tests: any control message is a command or a rejection with a reason, and conditions a
command carries are accepted or refused with ConditionError (which fails the stream, never the agent)."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.schemas import CREATING, GenerateCommand, StreamCommand, TrainCommand
from worker.schemas import CommandError, parse_command
from synthesis.conditions import ConditionError, validate_conditions
from tests.json_strategies import encoded, json_values

FIELDS = sorted(set(TrainCommand.model_fields) | set(StreamCommand.model_fields) | set(GenerateCommand.model_fields))
COLUMNS = [{"name": "bmi"}, {"name": "heart_disease", "categories": ["No", "Yes"]},
           {"name": "sex", "categories": ["Female", "Male"]}]

commands = st.builds(
    lambda name, fields, extra: {"command": name, **fields, **extra},
    st.sampled_from(sorted(CREATING | {"cancel"})) | st.text(max_size=8) | json_values,
    st.dictionaries(st.sampled_from(FIELDS), json_values | st.integers(1, 10**6), max_size=4),
    st.dictionaries(st.text(max_size=8), json_values, max_size=1),
)
conditions = st.dictionaries(
    st.sampled_from(["bmi", "heart_disease", "sex"]) | st.text(max_size=8),
    st.sampled_from(["No", "Yes", "Male"]) | json_values, max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(raw=st.none() | encoded(json_values) | encoded(commands))
def test_any_control_message_is_a_command_or_a_rejection_with_a_reason(raw):
    try:
        command = parse_command(raw, "fallback-id")
    except CommandError as exc:
        assert str(exc)
        return
    # what the command is published as parses back to the same command (its fields: why a method was
    # chosen is said in the HTTP answer and not carried on the topic)
    again = parse_command(command.model_dump_json(exclude_none=True).encode(), "other-id")
    assert again.model_dump() == command.model_dump()


@settings(max_examples=200, deadline=None)
@given(given_conditions=st.none() | conditions)
def test_any_conditions_are_accepted_or_refused_naming_the_column(given_conditions):
    try:
        accepted = validate_conditions(COLUMNS, given_conditions)
    except ConditionError as exc:
        assert any(repr(column) in str(exc) for column in given_conditions), exc
        return
    categories = {c["name"]: c.get("categories") for c in COLUMNS}
    assert all(str(v) in categories[k] for k, v in accepted.items())


@settings(max_examples=200, deadline=None)
@given(body=encoded(commands))
def test_conditions_that_pass_the_command_model_are_checked_without_other_errors(body):
    """The stream handler's path: model validation first, then validate_conditions on what passed."""
    try:
        command = parse_command(body, "fallback-id")
    except CommandError:
        return
    try:
        validate_conditions(COLUMNS, getattr(command, "conditions", None))
    except ConditionError:
        pass
