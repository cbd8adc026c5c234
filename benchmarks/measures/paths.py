"""Measures of the call paths: latency, throughput, and the cost without the network."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
import math
import statistics
import time

import aiohttp

from benchmarks.figures import Column, Figures, Target, at_most
from benchmarks.harness import Bench
from benchmarks.harness.config import FLOOR_BUTTON
from benchmarks.harness.internals import post_replaced_by_ok
from benchmarks.harness.paths import ORDERS, Call, CallPath, order
from benchmarks.harness.timing import quantile, timed_blocks
from homeassistant.exceptions import HomeAssistantError

P = CallPath
BLOCK = 5


@dataclass(frozen=True, slots=True)
class PathLatency:
    """One path's latency: wall time, and the event loop's thread CPU time, in µs."""

    calls: int
    median_us: float
    p95_us: float
    mean_us: float
    cpu_median_us: float


@dataclass(frozen=True, slots=True)
class LatencyFigures(Figures):
    """Each path's latency, interleaved in blocks."""

    paths: Mapping[CallPath, PathLatency]
    block: int

    def ratio(self, path: CallPath, other: CallPath) -> float:
        """Return the ratio of two paths' medians."""
        return self.paths[path].median_us / self.paths[other].median_us

    def cpu_ratio(self, path: CallPath, other: CallPath) -> float:
        """Return the ratio of two paths' median CPU times of the event loop's thread."""
        return self.paths[path].cpu_median_us / self.paths[other].cpu_median_us

    def targets(self) -> Sequence[Target]:
        """Return the issue's targets, and the gross regressions that gate --short."""
        button, notify = (
            self.ratio(P.BUTTON, P.PLACE),
            self.ratio(P.NOTIFY, P.PLACE_CID),
        )
        return (
            at_most(
                "place_call median ≤ 1.0 × rest_command median",
                self.ratio(P.PLACE, P.REST),
                1.0,
            ),
            at_most(
                "place_call median ≤ 2.0 × raw POST median",
                self.ratio(P.PLACE, P.RAW),
                2.0,
            ),
            at_most(
                "place_call with the default rails ≤ 1.15 × rest_command (issue 8)",
                self.ratio(P.PLACE_RAILS, P.REST),
                1.15,
            ),
            at_most("button press median ≤ 1.10 × place_call median", button, 1.10),
            at_most(
                "notify median ≤ 1.10 × place_call (same cidname) median", notify, 1.10
            ),
            at_most(
                "place_call median ≤ 2 × rest_command median",
                self.ratio(P.PLACE, P.REST),
                2.0,
                gates_short=True,
            ),
            Target(
                "button press and notify ≤ 2 × place_call (their own) median",
                "≤ 2.00 ×",
                f"{button:.2f} × / {notify:.2f} ×",
                button <= 2 and notify <= 2,
                gates_short=True,
            ),
        )

    def columns(self) -> Sequence[Column]:
        """Return the median, the p95 and the loop's CPU time of each path."""
        return (
            Column(
                "median µs", {p: f"{f.median_us:.0f}" for p, f in self.paths.items()}
            ),
            Column("p95 µs", {p: f"{f.p95_us:.0f}" for p, f in self.paths.items()}),
            Column(
                "loop CPU µs",
                {p: f"{f.cpu_median_us:.0f}" for p, f in self.paths.items()},
            ),
        )

    def blocks(self) -> Sequence[str]:
        """Return what the ratios say: the integration's cost, and the rails'."""
        paths = self.paths
        return (
            (
                f"Latency: {paths[P.PLACE].calls} calls per path, interleaved in blocks of "
                f"{self.block}. Ratios of medians: place_call / raw POST = "
                f"{self.ratio(P.PLACE, P.RAW):.2f}, place_call / rest_command = "
                f"{self.ratio(P.PLACE, P.REST):.2f}; place_call takes "
                f"{paths[P.PLACE].median_us - paths[P.RAW].median_us:.0f} µs more than the "
                "raw POST. Loop CPU: median CPU time of the event loop's thread per call "
                f"(place_call / rest_command = {self.cpu_ratio(P.PLACE, P.REST):.2f})."
            ),
            (
                "Rails: place_call on an account with the default rails (30 s cooldown, "
                "each call to a new number; a budget that counts every call, never "
                "reached; limit 100) / with cooldown 0 and no budget = "
                f"{self.ratio(P.PLACE_RAILS, P.PLACE):.2f} "
                f"({paths[P.PLACE_RAILS].median_us - paths[P.PLACE].median_us:+.0f} µs; / "
                f"rest_command = {self.ratio(P.PLACE_RAILS, P.REST):.2f}). Entities: button "
                f"press / place_call = {self.ratio(P.BUTTON, P.PLACE):.2f}; notify / "
                "place_call with the same cidname = "
                f"{self.ratio(P.NOTIFY, P.PLACE_CID):.2f} (notify / place_call = "
                f"{self.ratio(P.NOTIFY, P.PLACE):.2f})."
            ),
        )

    def ratios(self) -> Mapping[str, float]:
        """Return the ratios of medians (and of the loop's CPU time) between paths."""
        return {
            "place_over_raw": self.ratio(P.PLACE, P.RAW),
            "place_over_rest": self.ratio(P.PLACE, P.REST),
            "place_over_rest_cpu": self.cpu_ratio(P.PLACE, P.REST),
            "rails_over_place": self.ratio(P.PLACE_RAILS, P.PLACE),
            "rails_over_rest": self.ratio(P.PLACE_RAILS, P.REST),
            "button_over_place": self.ratio(P.BUTTON, P.PLACE),
            "notify_over_place_cid": self.ratio(P.NOTIFY, P.PLACE_CID),
            "notify_over_place": self.ratio(P.NOTIFY, P.PLACE),
            "place_cid_over_place": self.ratio(P.PLACE_CID, P.PLACE),
        }

    def json(self) -> object:
        """Return each path's latency by its key."""
        return {str(path): asdict(latency) for path, latency in self.paths.items()}


async def latency(bench: Bench) -> LatencyFigures:
    """Time each call: wall time and CPU time of the event loop's thread.

    The paths take turns in blocks of BLOCK calls, each in each position and after
    each other path equally often (ORDERS), so drift hits all alike. Each block
    starts with one unmeasured call: a call finds the connection pool as the previous
    call left it, and rest_command, which leaves without reading the reply, makes
    aiohttp close that connection now and then. Each path so pays for the state it
    leaves itself.
    """
    plan, calls = bench.plan, bench.calls
    bench.progress(f"latency: {plan.interleaved} calls each, interleaved")
    for index in range(plan.warmup):
        for path in order(index):
            await calls[path]()
    wall: dict[CallPath, list[float]] = {path: [] for path in calls}
    cpu: dict[CallPath, list[float]] = {path: [] for path in calls}
    clock, cpu_clock = time.perf_counter, time.thread_time
    for index in range(math.ceil(plan.interleaved / BLOCK)):
        for path in order(index):
            call = calls[path]
            await call()
            for _ in range(BLOCK):
                cpu_start = cpu_clock()
                start = clock()
                ok = await call()
                wall[path].append(clock() - start)
                cpu[path].append(cpu_clock() - cpu_start)
                if not ok:
                    raise RuntimeError(f"{path} was refused")
    return LatencyFigures(
        {
            path: PathLatency(
                calls=len(values),
                median_us=statistics.median(values) * 1e6,
                p95_us=quantile(values, 0.95) * 1e6,
                mean_us=statistics.fmean(values) * 1e6,
                cpu_median_us=statistics.median(cpu[path]) * 1e6,
            )
            for path, values in wall.items()
        },
        BLOCK,
    )


@dataclass(frozen=True, slots=True)
class SequentialFigures(Figures):
    """Each path's calls per second, back to back."""

    calls_per_s: Mapping[CallPath, float]
    calls: int
    block: int

    def columns(self) -> Sequence[Column]:
        """Return the calls per second of each path."""
        return (
            Column(
                "sequential calls/s",
                {path: f"{rate:.0f}" for path, rate in self.calls_per_s.items()},
            ),
        )

    def blocks(self) -> Sequence[str]:
        """Return how many calls were timed."""
        return (
            (
                f"Throughput: {self.calls} sequential calls per path, in blocks of "
                f"{self.block}."
            ),
        )

    def json(self) -> object:
        """Return each path's calls per second by its key."""
        return {str(path): rate for path, rate in self.calls_per_s.items()}


async def sequential(bench: Bench) -> SequentialFigures:
    """Measure calls per second back to back, in blocks, the paths taking turns."""
    plan = bench.plan
    bench.progress(f"throughput: {plan.sequential} sequential calls each")
    blocks = max(1, plan.sequential // plan.sequential_block)
    elapsed = await timed_blocks(bench.calls, ORDERS, blocks, plan.sequential_block)
    calls = blocks * plan.sequential_block
    return SequentialFigures(
        {path: calls / sum(seconds) for path, seconds in elapsed.items()},
        calls,
        plan.sequential_block,
    )


@dataclass(frozen=True, slots=True)
class InFlightFigures(Figures):
    """Each path's calls per second with `width` calls in flight, and calls lost."""

    calls_per_s: Mapping[CallPath, float]
    lost: Mapping[CallPath, int]
    calls_each: int
    width: int

    def columns(self) -> Sequence[Column]:
        """Return the calls per second of each path."""
        return (
            Column(
                f"calls/s, {self.width} in flight",
                {path: f"{rate:.0f}" for path, rate in self.calls_per_s.items()},
            ),
        )

    def blocks(self) -> Sequence[str]:
        """Return how many calls were made."""
        return (
            f"Throughput with {self.width} in flight: {self.calls_each} calls per path.",
        )

    def lost_calls(self) -> int:
        """Return the calls lost over all paths."""
        return sum(self.lost.values())


async def _in_flight(call: Call, total: int, width: int) -> tuple[float, int]:
    """Run `total` calls with `width` in flight; return (seconds, failed calls)."""
    remaining = total
    failed = 0

    async def worker() -> None:
        nonlocal remaining, failed
        while remaining > 0:
            remaining -= 1
            try:
                ok = await call()
            except (HomeAssistantError, aiohttp.ClientError, TimeoutError):
                ok = False
            failed += not ok

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return time.perf_counter() - start, failed


async def in_flight(bench: Bench) -> InFlightFigures:
    """Measure calls per second with `width` in flight, counting lost calls."""
    plan, sim = bench.plan, bench.sim
    total, width = plan.in_flight_calls, plan.in_flight
    bench.progress(f"throughput: {total} calls each, {width} in flight")
    rounds = len(ORDERS)
    per_round = max(width, total // rounds)
    elapsed = dict.fromkeys(bench.calls, 0.0)
    lost = dict.fromkeys(bench.calls, 0)
    for index in range(rounds):
        for path in order(index):
            await sim.reset()
            seconds, failed = await _in_flight(bench.calls[path], per_round, width)
            received = (await sim.stats()).calls
            elapsed[path] += seconds
            lost[path] += max(failed, per_round - received)
    return InFlightFigures(
        {path: rounds * per_round / seconds for path, seconds in elapsed.items()},
        lost,
        rounds * per_round,
        width,
    )


STUBBED = (P.PLACE, P.PLACE_RAILS, P.BUTTON, P.PLACE_CID, P.NOTIFY)
FLOOR = "floor_button"


@dataclass(frozen=True, slots=True)
class StubbedFigures(Figures):
    """µs per call of the integration's paths without the network, and a floor."""

    per_call_us: Mapping[CallPath, float]
    floor_button_us: float

    def blocks(self) -> Sequence[str]:
        """Return the table of the paths, each against place_call."""
        rows = [
            (
                "| Without the network (the client's POST replaced by an immediate OK) | "
                "µs per call | × place_call (its own) |"
            ),
            "| --- | ---: | ---: |",
        ]
        for path, us in self.per_call_us.items():
            own = self.per_call_us[P.PLACE_CID if path is P.NOTIFY else P.PLACE]
            rows.append(f"| {path.label} | {us:.0f} | {us / own:.2f} |")
        rows.append(
            "| floor: `input_button.press`, core's helper button (sends nothing) | "
            f"{self.floor_button_us:.0f} | – |"
        )
        return ("\n".join(rows),)

    def json(self) -> object:
        """Return µs per call by path, and the floor."""
        return {str(path): us for path, us in self.per_call_us.items()} | {
            FLOOR: self.floor_button_us
        }


async def stubbed(bench: Bench) -> StubbedFigures:
    """Time the integration's paths with the client's POST replaced by an OK.

    What is left is the CPU time of Home Assistant's action or entity-service call
    and of the integration (validation, rails, task, event, "Last call"): steadier
    than the figures with the network, and what the paths differ by. Blocks of 20
    calls, the paths taking turns; the median of the blocks' means, per call. Core's
    input_button, pressed in the same turns, is the floor of any press: Home
    Assistant's entity service and the button's own state write, nothing sent.
    """
    hass, count = bench.hass, bench.plan.stubbed
    bench.progress(f"without the network: {count} calls each")
    floor_data = {"entity_id": FLOOR_BUTTON}

    async def floor() -> bool:
        await hass.services.async_call(
            "input_button", "press", floor_data, blocking=True
        )
        return True

    calls: dict[str, Call] = {path: bench.calls[path] for path in STUBBED}
    calls[FLOOR] = floor
    orders = [[*(path for path in turn if path in STUBBED), FLOOR] for turn in ORDERS]
    block = 20
    accounts = bench.accounts
    with post_replaced_by_ok((accounts.bench, accounts.rails)):
        elapsed = await timed_blocks(calls, orders, max(1, count // block), block)
    per_call_us = {
        key: statistics.median(seconds) / block * 1e6
        for key, seconds in elapsed.items()
    }
    return StubbedFigures(
        {path: per_call_us[path] for path in STUBBED}, per_call_us[FLOOR]
    )
