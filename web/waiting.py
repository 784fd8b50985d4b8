"""Waiting, boundedly, for a command to show up in its status table."""

from __future__ import annotations

import asyncio
import time


async def wait_until_known(table, key: str, timeout: float = 10.0) -> bool:
    """True once the control agent registered `key`; False after `timeout` (the command is still queued)."""
    deadline = time.monotonic() + timeout
    while table.get(key) is None:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
