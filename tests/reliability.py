"""Checks shared by the reliability tests: loop lag, a clean log, exception texts."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
import contextlib
import gc
import logging
from types import TracebackType
from typing import Self

import pytest

# What asyncio, aiohttp and Home Assistant log when something is left behind or
# blocks the loop. None may appear in a reliability test's log.
BAD_LOG_TEXTS = (
    "Traceback",
    "Detected blocking call",
    "Unclosed",
    "Task was destroyed",
    "never awaited",
    "never retrieved",
    "did not complete in time",
    "Lingering",
)


class LoopLagProbe:
    """Measure how late the event loop runs a sleep of `interval` seconds."""

    def __init__(self, interval: float = 0.02) -> None:
        """Prepare the probe; it runs inside `async with`."""
        self.interval = interval
        self.max_lag = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        """Start probing."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Take one more sample, which shows the loop still runs, then stop."""
        assert self._task is not None
        target = self.samples + 1
        async with asyncio.timeout(5):
            while self.samples < target:
                await asyncio.sleep(self.interval / 2)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        """Sleep again and again, keeping the worst delay."""
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.interval)
            self.max_lag = max(self.max_lag, loop.time() - start - self.interval)
            self.samples += 1


@contextlib.contextmanager
def frozen_heap() -> Generator[None]:
    """Keep the objects that exist now out of garbage collection until the end.

    A full collection walks every object of the test process (pytest, Home Assistant,
    every module imported), stalling the loop for up to half a second whatever the
    test does. Frozen, they are skipped: what remains is what the test creates.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _shown(record: logging.LogRecord) -> bool:
    """Whether a record counts: INFO and above, or any record of Home Assistant.

    Left out: asyncio's DEBUG records about a transport's OSError (a reset, a failed
    handshake). The test loop runs in debug mode, which is the only reason they exist;
    Home Assistant does not run its loop in debug mode, and nothing shows them.
    """
    if record.levelno >= logging.INFO:
        return True
    return record.name.startswith(("homeassistant", "custom_components"))


def assert_clean_log(
    caplog: pytest.LogCaptureFixture, *, slow_callbacks: bool = True
) -> None:
    """Assert no traceback, blocking call, slow callback or leak warning was logged.

    slow_callbacks=False leaves out asyncio's "Executing ... took 0.123 seconds".
    """
    shown = [record for record in caplog.records if _shown(record)]
    for record in shown:
        assert record.exc_info is None, record.getMessage()
        assert record.exc_text is None, record.getMessage()
        assert record.stack_info is None, record.getMessage()
        # asyncio's debug mode: "Executing <Handle ...> took 0.123 seconds".
        slow = record.name == "asyncio" and "took" in record.getMessage()
        assert not (slow and slow_callbacks), record.getMessage()
    text = "\n".join(record.getMessage() for record in shown)
    for bad in BAD_LOG_TEXTS:
        assert bad not in text, bad
