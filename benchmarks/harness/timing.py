"""Timing helpers: turns in a Williams square, quantiles, loop lag, GC, memory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
import contextlib
from dataclasses import dataclass
import gc
import math
import time
import tracemalloc
from typing import Any

LAG_INTERVAL = 0.002


def williams(count: int) -> list[list[int]]:
    """Return `count` orders of range(count) forming a Williams square.

    Each index is in each position once and, for an even count, directly after each
    other index once: no path always follows the same one (a path can leave the
    connection pool, the garbage collector or the caches in a state that the next
    one pays for).
    """
    first = [0] + [
        (step + 1) // 2 if step % 2 else count - step // 2 for step in range(1, count)
    ]
    return [[(index + shift) % count for index in first] for shift in range(count)]


def quantile(values: Sequence[float], q: float) -> float:
    """Return the nearest-rank q-quantile of values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def timed_blocks[K](
    calls: Mapping[K, Callable[[], Awaitable[object]]],
    orders: Sequence[Sequence[K]],
    blocks: int,
    size: int,
) -> dict[K, list[float]]:
    """Time blocks of `size` calls back to back, the calls taking turns in `orders`.

    Each block starts with one unmeasured call, so each call pays for the state it
    leaves itself (rest_command, which leaves without reading the reply, makes aiohttp
    close its connection now and then). Returns each block's seconds, per call.
    """
    elapsed: dict[K, list[float]] = {key: [] for key in calls}
    for index in range(blocks):
        for key in orders[index % len(orders)]:
            call = calls[key]
            await call()
            start = time.perf_counter()
            for _ in range(size):
                await call()
            elapsed[key].append(time.perf_counter() - start)
    return elapsed


class LagProbe:
    """Samples the event loop's lag: how late a 2 ms sleep wakes, until stopped."""

    def __init__(self) -> None:
        """Start sampling."""
        self.samples: list[tuple[float, float]] = []
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        """Record (time, lag) of one sleep after another."""
        clock = time.perf_counter
        while not self._stop.is_set():
            start = clock()
            await asyncio.sleep(LAG_INTERVAL)
            now = clock()
            self.samples.append((now, max(0.0, now - start - LAG_INTERVAL)))

    async def stop(self) -> None:
        """Stop sampling, once the sleep under way ends."""
        self._stop.set()
        await self._task

    def lags(self, start: float = -math.inf, end: float = math.inf) -> list[float]:
        """Return the lags sampled between `start` and `end` (time.perf_counter)."""
        return [lag for at, lag in self.samples if start <= at <= end]


class GcPauses:
    """Records the cyclic garbage collector's collections, until stopped."""

    def __init__(self) -> None:
        """Start recording."""
        # (when it ended, its generation, how long it took), in seconds.
        self.collections: list[tuple[float, int, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        """Time one collection."""
        now = time.perf_counter()
        if phase == "start":
            self._started = now
        else:
            self.collections.append((now, info["generation"], now - self._started))

    def stop(self) -> None:
        """Stop recording."""
        gc.callbacks.remove(self._callback)

    def full(self, start: float, end: float) -> list[float]:
        """Return the seconds of each full collection that ended in [start, end]."""
        return [
            seconds
            for at, generation, seconds in self.collections
            if generation == 2 and start <= at <= end
        ]


@dataclass(frozen=True, slots=True)
class TracedMemory:
    """The memory traced when tracing started."""

    before: int

    def held(self) -> int:
        """Return the bytes held since, after a garbage collection."""
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - self.before


@contextlib.contextmanager
def traced_memory() -> Iterator[TracedMemory]:
    """Trace the memory allocated while open (tracemalloc), from a collected heap."""
    gc.collect()
    tracemalloc.start()
    try:
        yield TracedMemory(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
