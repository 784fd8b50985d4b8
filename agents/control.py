"""The control agent: every command, from the HTTP API, the CLI or any Kafka client, is carried out here."""

from __future__ import annotations

import logging
import uuid
import orjson
from pydantic import ValidationError

from agents.commands import CREATING, HANDLERS, command_adapter
from agents.status import ready as status_ready
from agents.topics import control_dlq_topic, control_topic
from app import app

logger = logging.getLogger(__name__)
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


async def dead_letter(topic, event, reason: str) -> None:
    message = event.message
    await topic.send(
        key=message.key,
        value=message.value,
        headers={
            "error": reason.encode()[:4096],
            "source_topic": message.topic.encode(),
            "source_partition": str(message.partition).encode(),
            "source_offset": str(message.offset).encode(),
        },
    )


@app.agent(control_topic)
async def carry_out_commands(stream):
    await status_ready()  # handlers look up earlier commands' status entries
    async for event in stream.events():
        message = event.message
        fallback = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{message.topic}/{message.partition}/{message.offset}"))
        try:
            command = parse_command(event.value, fallback)
        except CommandError as exc:
            logger.warning("rejected control message at offset %s: %s", message.offset, exc)
            await dead_letter(control_dlq_topic, event, str(exc))
            continue
        try:
            await HANDLERS[command.command](command)
        except Exception as exc:  # a handler bug must not stop the control agent
            logger.exception("command %s %s failed", command.command, command.id)
            await dead_letter(control_dlq_topic, event, f"{type(exc).__name__}: {exc}")


async def publish_command(command) -> None:
    """Send a command (a pydantic model from agents.commands) to the control topic."""
    await control_topic.send(key=command.id.encode(), value=command.model_dump_json(exclude_none=True).encode())
