"""Waiting, boundedly, for a command to show up in its status table."""

from __future__ import annotations

import asyncio
import time


async def wait_until_known(status, table: str, key: str, timeout: float = 10.0) -> bool:
    """True once the control agent registered `key` in the worker's status view (`status`, worker.status) `table`;
    False after `timeout` (the command is still queued)."""
    deadline = time.monotonic() + timeout
    while status.get(table, key) is None:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
