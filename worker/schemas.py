"""Commands: the request bodies of the HTTP API and the messages on the control topic, one schema each, and the
parser of a control message. The views, the agents and the CLI's client import them from here."""

from __future__ import annotations

import uuid

import orjson
from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, ValidationError, ValidationInfo,
                      field_validator, model_validator)

from worker.settings import get_settings

ModelName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="1-64 of A-Z a-z 0-9 _ -")]


# Commands that create something: a message without an id gets one derived from its offset.
CREATING = {"train", "stream", "generate"}


Conditions = Annotated[
    dict[Annotated[str, Field(max_length=64)], Union[str, int, float, bool]],
    Field(max_length=50, description="Fixed values of categorical columns, e.g. {\"heart_disease\": \"Yes\"}."),
]


def new_id() -> str:
    return str(uuid.uuid4())


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def chosen_method(method: str | None, epochs: int | None) -> tuple[str, str]:
    """The method a training uses and why: the one sent; else DEFAULT_METHOD; else, when epochs were sent and
    DEFAULT_METHOD does not train in epochs, EPOCHS_METHOD (ctgan, the original service's default)."""
    from synthesis.methods import get_method

    if method is not None:
        return method, "sent in the request"
    s = get_settings()
    if epochs is not None and get_method(s.default_method).epochs is None:
        return s.epochs_method, (f"epochs were sent without a method and DEFAULT_METHOD ({s.default_method}) does not "
                                 f"train in epochs; EPOCHS_METHOD ({s.epochs_method}) does")
    return s.default_method, f"DEFAULT_METHOD ({s.default_method})"


class TrainRequest(Strict):
    dataset_path: str = Field(default_factory=lambda: get_settings().default_dataset, max_length=1024)
    model_name: ModelName = Field(default_factory=lambda: get_settings().default_model)
    method: str | None = Field(None, description="A method of /train/methods; unset: DEFAULT_METHOD, or EPOCHS_METHOD "
                                                  "(ctgan) when epochs are sent and DEFAULT_METHOD has none.")
    epochs: int | None = Field(None, ge=1, strict=True, description="Training epochs (CTGAN, TVAE, CopulaGAN).")
    overwrite_existing: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict, description="Method parameters, see /train/methods.")
    keep_bmi_rule: bool = Field(True, description="Recompute bmi from weight_kg and height_cm in every sampled row.")
    holdout_fraction: float = Field(
        default_factory=lambda: get_settings().holdout_fraction, ge=0.0, le=0.5,
        description="Share of rows held out of training to evaluate the model on (0: no evaluation).",
    )
    target: str = Field("heart_disease", max_length=64, description="Column the utility (TSTR) classifier predicts.")
    _method_reason: str = PrivateAttr("sent in the request")

    # Field validators (not a model validator) so that a 422 names the field at fault; they run in
    # declaration order, so `method` is checked before `epochs` and `parameters` read it.
    @field_validator("method")
    @classmethod
    def _known_method(cls, value):
        from synthesis.methods import get_method

        if value is not None:
            get_method(value)  # ParameterError is a ValueError: becomes this field's error
        return value

    @field_validator("parameters")
    @classmethod
    def _method_parameters(cls, value, info: ValidationInfo):
        from synthesis.methods import get_method

        if "method" in info.data:
            get_method(chosen_method(info.data["method"], info.data.get("epochs"))[0]).check_parameters(value)
        return value

    @field_validator("epochs")
    @classmethod
    def _epochs_fit_the_method(cls, value, info: ValidationInfo):
        from synthesis.methods import get_method

        limit = get_settings().max_epochs
        if value is not None and value > limit:
            raise ValueError(f"epochs must be at most {limit}")
        if value is not None and "method" in info.data:
            method = chosen_method(info.data["method"], value)[0]
            if get_method(method).epochs is None:
                raise ValueError(f"method {method} does not train in epochs; leave epochs out")
        return value

    @model_validator(mode="after")
    def _choose_method(self):
        if self.method is None:
            self.method, self._method_reason = chosen_method(None, self.epochs)
        return self

    @property
    def method_reason(self) -> str:
        """Why the training uses its method (the spec's clients send epochs without one)."""
        return self._method_reason


class GenerateRequest(Strict):
    num_samples: int = Field(..., ge=1, strict=True)
    send_to_kafka: bool = False
    model_name: ModelName | None = None
    model_version: int | None = Field(None, ge=1, strict=True)
    seed: int | None = Field(None, ge=0, le=2**63 - 1, strict=True)
    conditions: Conditions | None = None

    @model_validator(mode="after")
    def _bounded(self):
        s = get_settings()
        limit = s.max_stream_samples if self.send_to_kafka else s.max_inline_samples
        if self.num_samples > limit:
            where = "sent to Kafka" if self.send_to_kafka else "returned inline"
            raise ValueError(f"num_samples must be at most {limit} when {where}")
        return self


class StreamRequest(Strict):
    num_samples: int = Field(..., ge=1, strict=True)
    batch_size: int = Field(1_000, ge=1, le=1_000_000, strict=True)
    interval_seconds: float = Field(0.0, ge=0.0, le=3600.0)
    model_name: ModelName | None = None
    model_version: int | None = Field(None, ge=1, strict=True)
    seed: int | None = Field(None, ge=0, le=2**63 - 1, strict=True)
    conditions: Conditions | None = None

    @field_validator("num_samples")
    @classmethod
    def _bounded(cls, value):
        limit = get_settings().max_stream_samples
        if value > limit:
            raise ValueError(f"num_samples must be at most {limit}")
        return value


class SqlRequest(Strict):
    """An analysis query (POST /warehouse/sql, `cardiosynth sql`): one statement that only reads."""

    sql: str = Field(..., min_length=1, max_length=100_000,
                     description="One SELECT, WITH ... SELECT, SHOW, DESCRIBE or EXPLAIN statement.")
    limit: int = Field(10_000, ge=1, le=100_000, strict=True, description="Rows returned at most.")

    @field_validator("sql")
    @classmethod
    def _reads_only(cls, value):
        from warehouse.read_only import check_read_only

        return check_read_only(value)  # ReadOnlyError is a ValueError: a 422 naming `sql`


class TrainCommand(TrainRequest):
    command: Literal["train"]
    id: str = Field(default_factory=new_id, max_length=64)


class StreamCommand(StreamRequest):
    command: Literal["stream"]
    id: str = Field(default_factory=new_id, max_length=64)


class GenerateCommand(Strict):
    """Generation sent to Kafka: a stream without pacing."""

    command: Literal["generate"]
    id: str = Field(default_factory=new_id, max_length=64)
    num_samples: int = Field(..., ge=1, strict=True)
    model_name: ModelName | None = None
    model_version: int | None = Field(None, ge=1, strict=True)
    seed: int | None = Field(None, ge=0, le=2**63 - 1, strict=True)
    conditions: Conditions | None = None

    @field_validator("num_samples")
    @classmethod
    def _bounded(cls, value):
        limit = get_settings().max_stream_samples
        if value > limit:
            raise ValueError(f"num_samples must be at most {limit}")
        return value


class CancelCommand(Strict):
    command: Literal["cancel"]
    id: str = Field(..., max_length=64, description="The stream (or generation request) to cancel.")


Command = Annotated[Union[TrainCommand, StreamCommand, GenerateCommand, CancelCommand], Field(discriminator="command")]
command_adapter: TypeAdapter[Any] = TypeAdapter(Command)

MAX_COMMAND_BYTES = 64 * 1024


class CommandError(ValueError):
    """A control message that is not a valid command."""


def parse_command(raw: bytes | None, fallback_id: str):
    """The command in a control message; messages without an id get one derived from their offset."""
    if raw is None:
        raise CommandError("empty message")
    if len(raw) > MAX_COMMAND_BYTES:
        raise CommandError(f"command of {len(raw)} bytes exceeds {MAX_COMMAND_BYTES}")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CommandError(f"invalid JSON: {exc}") from None
    # the name is looked up only if it is a string: {"command": []} raised TypeError and stopped this agent
    if isinstance(body, dict) and "id" not in body and isinstance(body.get("command"), str) \
            and body["command"] in CREATING:
        body["id"] = fallback_id  # a redelivered message keeps the same id, so it runs once
    try:
        return command_adapter.validate_python(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise CommandError(problems) from None
