"""Measures of wait=1 calls: many pending at once, and many queued behind a limit."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
import time
import tracemalloc
from typing import Any

from benchmarks.figures import Figures, Target, below
from benchmarks.harness import Bench
from benchmarks.harness.config import QUEUE_LIMIT
from benchmarks.harness.internals import Lines, lines
from benchmarks.harness.paths import answered, place_waiting
from benchmarks.harness.timing import LagProbe, quantile, traced_memory

KIB = 1024


@dataclass(frozen=True, slots=True)
class MemoryFigures(Figures):
    """Memory Home Assistant holds per pending wait=1 call."""

    count: int
    pending_in_ha: int
    in_flight_at_simulator: int
    bytes_per_call: float
    answered: int
    lost: int
    top: tuple[str, ...]

    def targets(self) -> Sequence[Target]:
        """Return the issue's target for the memory per pending call."""
        return (
            below(
                "memory per pending wait=1 call",
                self.bytes_per_call / KIB,
                64,
                "KiB",
                digits=1,
            ),
        )

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return the memory per call, and how many were pending."""
        return (
            (
                (
                    f"memory per pending wait=1 call ({self.count} pending, own connection "
                    "included)"
                ),
                f"{self.bytes_per_call / KIB:.1f} KiB",
            ),
            (
                "… calls pending at that moment in Home Assistant / at the simulator",
                f"{self.pending_in_ha} / {self.in_flight_at_simulator}",
            ),
        )

    def details(self) -> Sequence[str]:
        """Return where the memory is allocated."""
        return (
            "Where the memory of one pending call is allocated (bytes per call):\n"
            + "\n".join(f"    {line}" for line in self.top),
        )

    def lost_calls(self) -> int:
        """Return the calls not answered."""
        return self.lost


async def memory(bench: Bench) -> MemoryFigures:
    """Memory Home Assistant's process holds per pending wait=1 call (tracemalloc)."""
    hass, sim, count = bench.hass, bench.sim, bench.plan.concurrent
    entry_id = bench.accounts.bench.entry_id
    bench.progress(f"memory: {count} pending wait=1 calls")
    await bench.fresh_simulator()  # each call opens its own connection
    with traced_memory() as traced:
        snapshot_before = tracemalloc.take_snapshot()
        tasks = [
            asyncio.create_task(place_waiting(hass, entry_id)) for _ in range(count)
        ]
        await asyncio.sleep(bench.plan.ring_time / 2)
        held = traced.held()
        snapshot = tracemalloc.take_snapshot()
        pending = sum(not task.done() for task in tasks)
        in_flight = (await sim.stats()).in_flight
        results = await asyncio.gather(*tasks, return_exceptions=True)
    top = tuple(
        f"{stat.size_diff / count:8.0f} B  {stat.traceback.format()[0].strip()}"
        for stat in snapshot.compare_to(snapshot_before, "lineno")[:12]
    )
    calls_answered = sum(answered(result) for result in results)
    return MemoryFigures(
        count=count,
        pending_in_ha=pending,
        in_flight_at_simulator=in_flight,
        bytes_per_call=held / count,
        answered=calls_answered,
        lost=count - calls_answered,
        top=top,
    )


@dataclass(frozen=True, slots=True)
class ConcurrencyFigures(Figures):
    """`count` wait=1 calls at once: when they were answered, the loop's lag meanwhile."""

    count: int
    ring_time_s: float
    answered: int
    lost: int
    max_in_flight_at_simulator: int
    first_done_s: float
    last_done_s: float
    lag_idle_p99_ms: float
    lag_pending_p99_ms: float
    lag_pending_max_ms: float
    lag_whole_p99_ms: float
    lag_whole_max_ms: float
    lag_samples: int

    def targets(self) -> Sequence[Target]:
        """Return the issue's targets: little lag, every call answered in time."""
        answer_within = 1.5 * self.ring_time_s
        return (
            below(
                f"event-loop lag p99, {self.count} wait=1 calls pending",
                self.lag_pending_p99_ms,
                10,
                "ms",
                digits=2,
            ),
            Target(
                f"{self.count} concurrent wait=1 calls all answered",
                f"≤ {answer_within:g} s (1.5 × ring time)",
                f"{self.last_done_s:.2f} s, {self.lost} lost",
                self.last_done_s <= answer_within and self.lost == 0,
            ),
        )

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return when the calls were answered, and the loop's lag."""
        return (
            (
                (
                    f"{self.count} wait=1 calls at once, ring time {self.ring_time_s:g} s: "
                    "first / last answered"
                ),
                f"{self.first_done_s:.2f} s / {self.last_done_s:.2f} s",
            ),
            (
                "… answered / most in flight at the simulator",
                f"{self.answered} / {self.max_in_flight_at_simulator}",
            ),
            (
                "… event-loop lag p99 (max) while all are pending",
                f"{self.lag_pending_p99_ms:.2f} ms ({self.lag_pending_max_ms:.2f} ms)",
            ),
            (
                "… event-loop lag p99 (max) from the start to the last answer",
                f"{self.lag_whole_p99_ms:.2f} ms ({self.lag_whole_max_ms:.2f} ms)",
            ),
            ("… event-loop lag p99, idle", f"{self.lag_idle_p99_ms:.2f} ms"),
        )

    def lost_calls(self) -> int:
        """Return the calls not answered."""
        return self.lost


async def concurrency(bench: Bench) -> ConcurrencyFigures:
    """Start `count` wait=1 calls at once; time them and the loop's lag meanwhile."""
    hass, count, ring_time = bench.hass, bench.plan.concurrent, bench.plan.ring_time
    entry_id = bench.accounts.bench.entry_id
    bench.progress(f"concurrency: {count} wait=1 calls at once")
    await bench.fresh_simulator()
    probe = LagProbe()
    await asyncio.sleep(0.5)  # the idle baseline
    finished: list[float] = []
    start = time.perf_counter()

    async def one() -> Any:
        try:
            return await place_waiting(hass, entry_id)
        finally:
            finished.append(time.perf_counter() - start)

    results = await asyncio.gather(
        *(one() for _ in range(count)), return_exceptions=True
    )
    end = time.perf_counter()
    await probe.stop()
    stats = await bench.sim.stats()
    idle = probe.lags(end=start)
    busy = probe.lags(start, end)
    # The calls are all pending from the moment the simulator holds them all until
    # the first reply: the window the target is about.
    pending = probe.lags(start + 0.25 * ring_time, start + min(finished) - 0.05) or busy
    calls_answered = sum(answered(result) for result in results)
    # The round leaves `count` idle connections that the simulator closes after its
    # keep-alive: let it, so that no later call reuses one as it closes (the request
    # would be lost, and no path may retry it).
    await bench.no_pooled_connection()
    return ConcurrencyFigures(
        count=count,
        ring_time_s=ring_time,
        answered=calls_answered,
        lost=count - calls_answered,
        max_in_flight_at_simulator=stats.max_in_flight,
        first_done_s=min(finished),
        last_done_s=max(finished),
        lag_idle_p99_ms=quantile(idle, 0.99) * 1000,
        lag_pending_p99_ms=quantile(pending, 0.99) * 1000,
        lag_pending_max_ms=max(pending) * 1000,
        lag_whole_p99_ms=quantile(busy, 0.99) * 1000,
        lag_whole_max_ms=max(busy) * 1000,
        lag_samples=len(busy),
    )


@dataclass(frozen=True, slots=True)
class QueueFigures(Figures):
    """`count` wait=1 calls queued behind a limit: memory, loop lag, how they drain."""

    count: int
    limit: int
    failures: dict[str, int]
    lines_when_queued: Lines
    all_queued_s: float
    bytes_per_call: float
    lag_queued_p99_ms: float
    lag_queued_max_ms: float
    lag_drain_p99_ms: float
    lag_drain_max_ms: float
    drained_s: float
    answered: int
    lost: int
    max_in_flight_at_simulator: int

    def targets(self) -> Sequence[Target]:
        """Return the issue's targets, and the limit's check that gates --short."""
        return (
            below(
                f"event-loop lag p99, {self.count} wait=1 calls queued behind a limit "
                f"of {self.limit}",
                self.lag_queued_p99_ms,
                10,
                "ms",
                digits=2,
            ),
            below(
                "memory per queued wait=1 call",
                self.bytes_per_call / KIB,
                64,
                "KiB",
                digits=1,
            ),
            Target(
                f"queued calls never more than {self.limit} at the provider",
                f"≤ {self.limit}",
                str(self.max_in_flight_at_simulator),
                self.max_in_flight_at_simulator <= self.limit,
                gates_short=True,
            ),
        )

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return the memory, the lines, the loop's lag and the draining."""
        lines = self.lines_when_queued
        return (
            (
                (
                    f"{self.count} wait=1 calls queued behind a limit of {self.limit} "
                    "(default rails): memory per queued call"
                ),
                f"{self.bytes_per_call / KIB:.1f} KiB",
            ),
            (
                "… lines in use / queued once all reached the dialer (after)",
                f"{lines.active} / {lines.queued} ({self.all_queued_s:.2f} s)",
            ),
            (
                "… event-loop lag p99 (max) while queued / while draining",
                (
                    f"{self.lag_queued_p99_ms:.2f} ms ({self.lag_queued_max_ms:.2f} ms) / "
                    f"{self.lag_drain_p99_ms:.2f} ms ({self.lag_drain_max_ms:.2f} ms)"
                ),
            ),
            (
                "… answered / most in flight at the simulator / drained in",
                (
                    f"{self.answered} / {self.max_in_flight_at_simulator} / "
                    f"{self.drained_s:.2f} s"
                ),
            ),
        )

    def lost_calls(self) -> int:
        """Return the calls not answered."""
        return self.lost


async def queue(bench: Bench) -> QueueFigures:
    """Queue `count` wait=1 calls behind the account's limit of 4; memory and lag.

    Each call goes to a number of its own (the account keeps its 30 s cooldown). Once
    all are with the dialer (4 ringing, the rest queued), the memory they hold is
    read (tracemalloc) and the loop's lag sampled for a second; then the simulator
    answers new calls at once and the queue drains, 4 at a time.
    """
    hass, sim, entry = bench.hass, bench.sim, bench.accounts.queue
    count, ring_time = bench.plan.queued, bench.plan.ring_time
    bench.progress(f"queue: {count} wait=1 calls behind a limit of {QUEUE_LIMIT}")
    await bench.fresh_simulator()
    with traced_memory() as traced:
        start = time.perf_counter()
        tasks = [
            # Ends in 0: the simulator rejects numbers ending 486, times out 408.
            asyncio.create_task(
                place_waiting(hass, entry.entry_id, f"+4421{index:07d}0")
            )
            for index in range(count)
        ]
        async with asyncio.timeout(60):
            while (now := lines(entry)).active + now.queued < count:
                await asyncio.sleep(0.01)
        all_queued_s = time.perf_counter() - start
        held = traced.held()
        when_queued = lines(entry)
    probe = LagProbe()
    await asyncio.sleep(min(1.0, ring_time / 2))
    queued_lag = probe.lags(end=time.perf_counter())
    await sim.ring(0)
    drain_start = time.perf_counter()
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await sim.ring(ring_time)
    drained_s = time.perf_counter() - drain_start
    await probe.stop()
    drain_lag = probe.lags(start=drain_start)
    stats = await sim.stats()
    calls_answered = sum(answered(result) for result in results)
    failures = Counter(repr(result)[:200] for result in results if not answered(result))
    return QueueFigures(
        count=count,
        limit=QUEUE_LIMIT,
        failures=dict(failures),
        lines_when_queued=when_queued,
        all_queued_s=all_queued_s,
        bytes_per_call=held / count,
        lag_queued_p99_ms=quantile(queued_lag, 0.99) * 1000,
        lag_queued_max_ms=max(queued_lag) * 1000,
        lag_drain_p99_ms=quantile(drain_lag, 0.99) * 1000 if drain_lag else 0.0,
        lag_drain_max_ms=max(drain_lag) * 1000 if drain_lag else 0.0,
        drained_s=drained_s,
        answered=calls_answered,
        lost=count - calls_answered,
        max_in_flight_at_simulator=stats.max_in_flight,
    )
