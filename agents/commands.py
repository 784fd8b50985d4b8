"""Commands: the request bodies of the HTTP API and the messages on the control topic, one schema each."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from settings import get_settings

ModelName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="1-64 of A-Z a-z 0-9 _ -")]


def new_id() -> str:
    return str(uuid.uuid4())


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainRequest(Strict):
    dataset_path: str = Field(default_factory=lambda: get_settings().default_dataset, max_length=1024)
    model_name: ModelName = Field(default_factory=lambda: get_settings().default_model)
    method: str = Field(default_factory=lambda: get_settings().default_method)
    epochs: int | None = Field(None, ge=1, description="Training epochs (CTGAN, TVAE, CopulaGAN).")
    overwrite_existing: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict, description="Method parameters, see /train/methods.")

    @field_validator("epochs")
    @classmethod
    def _epochs_bounded(cls, value):
        limit = get_settings().max_epochs
        if value is not None and value > limit:
            raise ValueError(f"epochs must be at most {limit}")
        return value

    @model_validator(mode="after")
    def _method_and_parameters(self):
        from synthesis.methods import get_method

        method = get_method(self.method)  # ParameterError is a ValueError: becomes a field error
        method.check_parameters(self.parameters)
        if self.epochs is not None and method.epochs is None:
            raise ValueError(f"method {self.method} does not train in epochs; leave epochs out")
        return self


class GenerateRequest(Strict):
    num_samples: int = Field(..., ge=1)
    send_to_kafka: bool = False
    model_name: ModelName | None = None
    model_version: int | None = Field(None, ge=1)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)

    @model_validator(mode="after")
    def _bounded(self):
        s = get_settings()
        limit = s.max_stream_samples if self.send_to_kafka else s.max_inline_samples
        if self.num_samples > limit:
            where = "sent to Kafka" if self.send_to_kafka else "returned inline"
            raise ValueError(f"num_samples must be at most {limit} when {where}")
        return self


class StreamRequest(Strict):
    num_samples: int = Field(..., ge=1)
    batch_size: int = Field(1_000, ge=1, le=1_000_000)
    interval_seconds: float = Field(0.0, ge=0.0, le=3600.0)
    model_name: ModelName | None = None
    model_version: int | None = Field(None, ge=1)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)

    @field_validator("num_samples")
    @classmethod
    def _bounded(cls, value):
        limit = get_settings().max_stream_samples
        if value > limit:
            raise ValueError(f"num_samples must be at most {limit}")
        return value


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
    num_samples: int = Field(..., ge=1)
    model_name: ModelName | None = None
    model_version: int | None = Field(None, ge=1)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)

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
