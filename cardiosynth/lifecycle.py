"""Worker start and stop: open the warehouse, warm the sampling pool, run the demo, release resources.

A worker stops on SIGINT (Ctrl-C) or SIGTERM within seconds, whatever it does: its trainings end
failed ("worker stopped"), its streams are left for another worker to resume, the events in progress
get `STOP_WAIT_SECONDS`, then its pool processes are killed. A second signal ends it at once, and so
does `STOP_TIMEOUT_SECONDS` after the first: Faust and aiokafka wait for an unreachable broker for
minutes (their request timeouts) to deliver what they hold, and nothing more is lost by not waiting.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing.util
import os
import signal
import sys
import threading

import mode

from agents import generation, training
from worker.app import app
from cardiosynth.demo import run
from synthesis.sampling import warm_up

logger = logging.getLogger(__name__)


@app.service
class WorkerResources(mode.Service):
    """Opens the warehouse and warms the sampling pool at the start; ends the worker object's pools at the stop."""

    async def on_start(self) -> None:
        res = app.worker
        try:
            await res.warehouse(lambda w: w.open())
        except Exception as exc:  # the sink retries; /health reports the outage meanwhile
            res.warehouse_error = str(exc)
            logger.warning("warehouse not available at start: %s", exc)
        self.add_future(self._warm_up())

    async def _warm_up(self) -> None:
        try:
            await app.worker.sample(warm_up)
        except Exception as exc:  # an optimisation only; and a stop kills the pool under it
            if not self.should_stop:
                logger.warning("sampling pool warm-up failed: %s", exc)

    async def on_stop(self) -> None:
        await app.worker.stop()


@app.on_stopping.connect
async def end_work(sender, **kwargs) -> None:
    """First step of the stop: no new chunk is scheduled here, and trainings end failed, while the producer still sends."""
    settings = app.worker.settings
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # mode's handler ignores a second signal, and closing the loop would put back the default
        # (a KeyboardInterrupt traceback while the interpreter exits)
        loop.remove_signal_handler(sig)
        signal.signal(sig, stop_now)
    logger.info("stopping: a second Ctrl-C or SIGTERM ends the worker at once")
    deadline = threading.Timer(settings.stop_timeout_seconds, stop_overdue, args=(settings.stop_timeout_seconds,))
    deadline.name, deadline.daemon = "stop-deadline", True
    deadline.start()
    paused = generation.stop_pacing()
    if paused:
        logger.info("streams %s left to resume on another worker", paused)
    failed = await training.fail_running("worker stopped", settings.stop_wait_seconds)
    if failed:
        logger.info("trainings %s ended failed: worker stopped", failed)


def stop_now(signum, frame) -> None:
    """A second SIGINT or SIGTERM while stopping: kill the pool processes and exit at once."""
    exit_now(128 + signum)


def stop_overdue(seconds: float) -> None:
    """The stop took longer than STOP_TIMEOUT_SECONDS: exit without the rest (the work was ended first)."""
    waiting = sorted(t.name for t in threading.enumerate() if not t.daemon and t is not threading.main_thread())
    logger.warning("not stopped after %.0fs (threads still running: %s): exiting now; "
                   "messages not yet acknowledged by the broker are not sent", seconds, ", ".join(waiting) or "none")
    exit_now(0)


def exit_now(status: int) -> None:
    app.worker.kill_processes()
    # what atexit would do for the pools' queues: unlink their semaphores (the resource tracker warns of leaks)
    multiprocessing.util._run_finalizers(0)
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:  # noqa: S110 - exiting anyway
            pass
    os._exit(status)


@app.task
async def run_demo() -> None:
    """With DEMO_ON_START: train the default model if it is missing, then stream a demo batch."""
    res = app.worker
    if not res.settings.demo_on_start:
        return
    await asyncio.sleep(0)
    await run(app)
