"""The control agent: every command, from the HTTP API, the CLI or any Kafka client, is carried out here."""

from __future__ import annotations

import logging
import uuid

from agents.commands import HANDLERS
from agents.status import ready as status_ready
from agents.topics import control_dlq_topic, control_topic
from worker.app import app
from worker.schemas import CommandError, parse_command

logger = logging.getLogger(__name__)


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
    """Send a command (a pydantic model from agents.commands) to the control topic; returns once the broker has it."""
    sent = await control_topic.send(key=command.id.encode(), value=command.model_dump_json(exclude_none=True).encode())
    await sent
