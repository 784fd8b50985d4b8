"""The handlers of control commands, by command name: the control agent dispatches through HANDLERS."""

from __future__ import annotations

from typing import Awaitable, Callable

HANDLERS: dict[str, Callable[..., Awaitable[None]]] = {}


def handles(command: str):
    """Register the handler of one command."""

    def register(fn):
        HANDLERS[command] = fn
        return fn

    return register
