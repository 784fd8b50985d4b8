"""Worker start and stop: open the warehouse, warm the sampling pool, run the demo, release resources."""

from __future__ import annotations

import asyncio
import logging

import mode

from app import app
from resources import get_resources
from synthesis.sampling import warm_up

logger = logging.getLogger(__name__)


@app.service
class WorkerResources(mode.Service):
    """Holds the process pools and the warehouse connection for the worker's lifetime."""

    async def on_start(self) -> None:
        res = get_resources()
        try:
            await res.warehouse(lambda w: w.open())
        except Exception as exc:  # the sink retries; /health reports the outage meanwhile
            res.warehouse_error = str(exc)
            logger.warning("warehouse not available at start: %s", exc)
        self.add_future(self._warm_up())

    async def _warm_up(self) -> None:
        try:
            await get_resources().sample(warm_up)
        except Exception as exc:  # an optimisation only; and a stop kills the pool under it
            if not self.should_stop:
                logger.warning("sampling pool warm-up failed: %s", exc)

    async def on_stop(self) -> None:
        await get_resources().stop()


@app.task
async def run_demo() -> None:
    """With DEMO_ON_START: train the default model if it is missing, then stream a demo batch."""
    res = get_resources()
    if not res.settings.demo_on_start:
        return
    from demo import run

    await asyncio.sleep(0)
    await run(app)
