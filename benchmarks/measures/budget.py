"""Measures of the call budget: what it costs a call, and a flood it refuses."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
import gc
import statistics
import time
import tracemalloc

from benchmarks.figures import Figures, Target, at_most, below
from benchmarks.harness import Bench
from benchmarks.harness.config import (
    BUDGET_NEVER_REACHED,
    DESTINATION,
    DOMAIN,
    FLOOD_BUDGET,
    FORM,
    PER_HOUR,
    SERVICE,
)
from benchmarks.harness.internals import counts_not_passed_on, post_replaced_by_ok
from benchmarks.harness.paths import Call
from benchmarks.harness.timing import (
    GcPauses,
    LagProbe,
    quantile,
    timed_blocks,
    traced_memory,
)
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from tests.simulator import EXTENSION

KIB = 1024
BLOCK = 5
STUBBED_BLOCK = 20
ON, OFF, QUIET = "on", "off", "off, counts not passed on"
# Each account first in every other block, so drift hits both alike.
BUDGET_ORDERS = ((ON, OFF), (OFF, ON))
# Without the network, with a third way: off, and the counts not passed on.
STUBBED_ORDERS = ((ON, OFF, QUIET), (QUIET, ON, OFF), (OFF, QUIET, ON))
# How long to go on sampling the loop's lag once a flood has ended.
SETTLE = 0.02
# What a refused call raises: the budget's translation keys.
REFUSED_KEYS = frozenset({"call_over_hourly_budget", "call_over_daily_budget"})


@dataclass(frozen=True, slots=True)
class BudgetSide:
    """place_call on one account: wall time and the loop thread's CPU time, in µs."""

    median_us: float
    p95_us: float
    cpu_median_us: float
    stubbed_us: float


@dataclass(frozen=True, slots=True)
class BudgetCostFigures(Figures):
    """place_call with the call budget on against the same account with it off."""

    calls: int
    block: int
    stubbed_calls: int
    on: BudgetSide
    off: BudgetSide
    quiet_stubbed_us: float

    @property
    def ratio(self) -> float:
        """Return the median with the budget on over the median with it off."""
        return self.on.median_us / self.off.median_us

    def targets(self) -> Sequence[Target]:
        """Return issue 16's target, and the gross regression that gates --short."""
        return (
            at_most(
                "place_call with the call budget on (never reached) ≤ 1.02 × off "
                "(issue 16)",
                self.ratio,
                1.02,
            ),
            at_most(
                "place_call with the call budget on ≤ 1.5 × off",
                self.ratio,
                1.5,
                gates_short=True,
            ),
        )

    def blocks(self) -> Sequence[str]:
        """Return both accounts' times and their ratio."""
        on, off = self.on, self.off
        return (
            (
                f"Call budget: {self.calls} place_call calls on each of two accounts "
                "identical but for the budget (cooldown 0, limit 100; on: "
                f"{BUDGET_NEVER_REACHED:,} an hour and a day, never reached; off: 0 and "
                f"0), in blocks of {self.block}, each account first in every other "
                f"block. Median "
                f"{on.median_us:.0f} µs on, {off.median_us:.0f} µs off: "
                f"{self.ratio:.3f} × ({on.median_us - off.median_us:+.0f} µs; p95 "
                f"{on.p95_us:.0f} / {off.p95_us:.0f} µs; loop CPU "
                f"{on.cpu_median_us:.0f} / {off.cpu_median_us:.0f} µs, "
                f"{on.cpu_median_us / off.cpu_median_us:.3f} ×). Without the network "
                f"({self.stubbed_calls} calls each): {on.stubbed_us:.1f} µs on, "
                f"{off.stubbed_us:.1f} µs off ({on.stubbed_us - off.stubbed_us:+.1f} "
                "µs)."
            ),
            (
                "Off only skips the check against the limits: both accounts count "
                "every call, and pass the new counts on to the two counter sensors, "
                "the budget's repair issue and the stored counts. Without the network, "
                f"off with the counts not passed on takes {self.quiet_stubbed_us:.1f} "
                "µs: passing the counts on costs "
                f"{off.stubbed_us - self.quiet_stubbed_us:.1f} µs of the "
                f"{off.stubbed_us:.1f} µs a call takes with the budget off."
            ),
        )

    def ratios(self) -> Mapping[str, float]:
        """Return the budget's ratios, with the network and without."""
        return {
            "budget_on_over_off": self.ratio,
            "budget_on_over_off_cpu": self.on.cpu_median_us / self.off.cpu_median_us,
            "budget_on_over_off_stubbed": self.on.stubbed_us / self.off.stubbed_us,
            "counts_passed_on_over_not_stubbed": (
                self.off.stubbed_us / self.quiet_stubbed_us
            ),
        }


def _place(hass: HomeAssistant, entry_id: str) -> Call:
    """Return place_call on one account, with the benchmark's form."""
    data = {
        "config_entry_id": entry_id,
        "source": DESTINATION,
        "destination": EXTENSION,
    }

    async def place() -> bool:
        await hass.services.async_call(DOMAIN, SERVICE, data, blocking=True)
        return True

    return place


async def budget_cost(bench: Bench) -> BudgetCostFigures:
    """Time place_call with the budget on against the same account with it off.

    Two accounts identical but for the budget, used by this measure only, so each
    has counted as many calls as the other at any time. Blocks of BLOCK calls, each
    starting with one unmeasured call, each account first in every other block (as
    the latency measure does); before them, the same without the network, beside the
    account with the budget off whose counts are not passed on (informative: what
    counting costs whether the budget is on or off).
    """
    hass, sim, plan = bench.hass, bench.sim, bench.plan
    count = plan.budget_calls
    bench.progress(f"call budget: {count} calls each, on and off")
    accounts = bench.accounts
    calls = {
        ON: _place(hass, accounts.budget_on.entry_id),
        OFF: _place(hass, accounts.budget_off.entry_id),
    }
    stubbed_calls = calls | {
        QUIET: counts_not_passed_on(accounts.budget_off, calls[OFF])
    }
    with post_replaced_by_ok((accounts.budget_on, accounts.budget_off)):
        stubbed = await timed_blocks(
            stubbed_calls,
            STUBBED_ORDERS,
            max(1, plan.budget_stubbed // STUBBED_BLOCK),
            STUBBED_BLOCK,
        )
    # The measures before left the network idle: let the simulator close every
    # connection they left in the pool, so that no call reuses one as it closes.
    await bench.no_pooled_connection()
    for side, call in calls.items():
        await call()
        if (form := (await sim.last()).form()) != FORM:
            raise RuntimeError(f"place_call, budget {side}, sent another form: {form}")
    for _ in range(plan.warmup):
        for call in calls.values():
            await call()
    wall: dict[str, list[float]] = {side: [] for side in calls}
    cpu: dict[str, list[float]] = {side: [] for side in calls}
    clock, cpu_clock = time.perf_counter, time.thread_time
    for index in range(-(-count // BLOCK)):
        for side in BUDGET_ORDERS[index % 2]:
            call = calls[side]
            await call()
            for _ in range(BLOCK):
                cpu_start = cpu_clock()
                start = clock()
                await call()
                wall[side].append(clock() - start)
                cpu[side].append(cpu_clock() - cpu_start)
    await sim.reset()

    def stubbed_us(key: str) -> float:
        return statistics.median(stubbed[key]) / STUBBED_BLOCK * 1e6

    def figures(key: str) -> BudgetSide:
        return BudgetSide(
            median_us=statistics.median(wall[key]) * 1e6,
            p95_us=quantile(wall[key], 0.95) * 1e6,
            cpu_median_us=statistics.median(cpu[key]) * 1e6,
            stubbed_us=stubbed_us(key),
        )

    return BudgetCostFigures(
        calls=len(wall[ON]),
        block=BLOCK,
        stubbed_calls=len(stubbed[ON]) * STUBBED_BLOCK,
        on=figures(ON),
        off=figures(OFF),
        quiet_stubbed_us=stubbed_us(QUIET),
    )


class Flood:
    """A runaway script's calls to one account, each to a number of its own."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Start with no call placed."""
        self._hass = hass
        self._entry_id = entry_id
        self._next = 0
        self.outcomes: Counter[str] = Counter()

    async def _one(self, destination: str) -> None:
        """Place one call as a script does; count whether it was sent or refused."""
        data = {"config_entry_id": self._entry_id, "destination": destination}
        try:
            await self._hass.services.async_call(DOMAIN, SERVICE, data, blocking=True)
        except HomeAssistantError as err:
            key = err.translation_key
            self.outcomes["refused" if key in REFUSED_KEYS else f"failed: {key}"] += 1
        else:
            self.outcomes["sent"] += 1

    async def fire(self, count: int, *, burst: bool = False) -> None:
        """Start `count` calls at full speed, each a task of its own; wait for all.

        As a script's loop would, the loop yields once between two starts; a burst
        starts them all at once, without yielding. A task is let go once done, so
        that what the calls hold is the integration's and Home Assistant's, not
        this loop's.
        """
        running: set[asyncio.Task[None]] = set()
        for _ in range(count):
            self._next += 1
            # Ends in 0: the simulator rejects numbers ending 486, times out 408.
            number = f"+4422{self._next:07d}0"
            task = asyncio.create_task(self._one(number))
            running.add(task)
            task.add_done_callback(running.discard)
            if not burst:
                await asyncio.sleep(0)
        while running:
            await asyncio.wait(running)


@dataclass(frozen=True, slots=True)
class FloodRound:
    """One flood: calls sent, refused and failed, at the simulator; the loop's lag."""

    sent: int
    refused: int
    failed: int
    at_simulator: int
    duration_s: float
    cpu_s: float  # the event loop's thread
    lags_s: tuple[float, ...]
    # How long each full garbage collection during the flood took.
    full_gc_s: tuple[float, ...]

    @property
    def lag_p99_ms(self) -> float:
        """Return the p99 of the loop's lag during the flood."""
        return quantile(self.lags_s, 0.99) * 1000


def _ms(seconds: Iterable[float]) -> str:
    """Return the median of durations, in ms."""
    return f"{statistics.median(seconds) * 1000:.0f} ms"


@dataclass(frozen=True, slots=True)
class FloodFigures(Figures):
    """Floods of calls against a small budget: refused, lag, memory held."""

    budget: int
    calls: int
    rounds: tuple[FloodRound, ...]
    burst: FloodRound
    repair_issues: int
    small: int
    large: int
    held_small: int
    held_large: int
    top: tuple[str, ...]

    @property
    def lags_s(self) -> list[float]:
        """Return the loop's lags sampled during the floods (not the burst)."""
        return [lag for flood in self.rounds for lag in flood.lags_s]

    @property
    def growth_per_call(self) -> float:
        """Return the bytes held per refused call beyond the first `small`."""
        return (self.held_large - self.held_small) / (self.large - self.small)

    def _exact(self, flood: FloodRound) -> bool:
        """Return whether a flood sent the budget's calls, and refused the others."""
        return (
            flood.at_simulator == flood.sent == self.budget
            and flood.refused == self.calls - self.budget
            and flood.failed == 0
        )

    @staticmethod
    def _collections(floods: Sequence[FloodRound]) -> str:
        """Return how many full collections the floods had, and the longest."""
        pauses = [seconds for flood in floods for seconds in flood.full_gc_s]
        return f"{len(pauses)} ({max(pauses) * 1000:.0f} ms)" if pauses else "0"

    def targets(self) -> Sequence[Target]:
        """Return issue 16's targets; the budget's exact count gates --short."""
        slack = 64 * KIB
        floods = (*self.rounds, self.burst)
        return (
            Target(
                f"a flood of {self.calls} calls against a budget of {self.budget} an "
                f"hour: {self.budget} reach the provider, the rest refused (each flood)",
                f"{self.budget} / {self.calls - self.budget}",
                "; ".join(
                    f"{flood.at_simulator} / {flood.refused}" for flood in floods
                ),
                all(self._exact(flood) for flood in floods),
                gates_short=True,
            ),
            below(
                f"event-loop lag p99 during a flood of {self.calls} calls",
                quantile(self.lags_s, 0.99) * 1000,
                10,
                "ms",
                digits=2,
            ),
            Target(
                f"memory held after {self.large:,} refused calls ≤ after {self.small:,} "
                "+ 64 KiB",
                f"≤ {(self.held_small + slack) / KIB:.1f} KiB",
                f"{self.held_large / KIB:.1f} KiB",
                self.held_large <= self.held_small + slack,
            ),
            below(
                "memory held per refused call (a leak holds a result or an event each)",
                self.growth_per_call,
                KIB,
                "B",
                digits=1,
                gates_short=True,
            ),
        )

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return the flood's outcome, the loop's lag and the memory held."""
        outcomes = {
            f"{flood.sent} / {flood.refused} / {flood.at_simulator}"
            for flood in (*self.rounds, self.burst)
        }
        lags, burst = self.lags_s, self.burst
        return (
            (
                (
                    f"flood: {self.calls} calls at full speed against a budget of "
                    f"{self.budget} an hour (default rails, no daily budget), "
                    f"{len(self.rounds)} floods "
                    "and a burst, the budget raised by "
                    f"{self.budget} before each: sent / refused / at the simulator"
                ),
                (
                    f"{outcomes.pop()} each"
                    if len(outcomes) == 1
                    else "; ".join(sorted(outcomes))
                ),
            ),
            (
                (
                    "… event-loop lag p99 (max) during the floods / a flood took, and "
                    "the loop's CPU time in it (medians)"
                ),
                (
                    f"{quantile(lags, 0.99) * 1000:.2f} ms ({max(lags) * 1000:.2f} ms) "
                    f"/ {_ms(flood.duration_s for flood in self.rounds)}, "
                    f"{_ms(flood.cpu_s for flood in self.rounds)}"
                ),
            ),
            (
                "… full garbage collections during the floods (longest)",
                self._collections(self.rounds),
            ),
            (
                (
                    "… the same calls as a burst (all started at once, no yield): lag "
                    "p99 / the burst took / full garbage collections"
                ),
                (
                    f"{burst.lag_p99_ms:.2f} ms / {burst.duration_s * 1000:.0f} ms "
                    f"({burst.cpu_s * 1000:.0f} ms CPU) / {self._collections((burst,))}"
                ),
            ),
            (
                (
                    f"… memory held after {self.small:,} / {self.large:,} refused "
                    "calls (per refused call beyond the first)"
                ),
                (
                    f"{self.held_small / KIB:.1f} KiB / {self.held_large / KIB:.1f} KiB "
                    f"({self.growth_per_call:.1f} B)"
                ),
            ),
            (
                "… repair issues of the integration after it all",
                str(self.repair_issues),
            ),
        )

    def details(self) -> Sequence[str]:
        """Return where the memory held between the two counts was allocated."""
        return (
            f"Memory held after {self.large:,} refused calls against after "
            f"{self.small:,}, by where it was allocated (bytes):\n"
            + "\n".join(f"    {line}" for line in self.top),
        )

    def json(self) -> object:
        """Return the figures, each flood's lags summed up rather than listed."""

        def summary(flood: FloodRound) -> dict[str, object]:
            return {
                "sent": flood.sent,
                "refused": flood.refused,
                "failed": flood.failed,
                "at_simulator": flood.at_simulator,
                "duration_s": flood.duration_s,
                "cpu_s": flood.cpu_s,
                "lag_p99_ms": flood.lag_p99_ms,
                "lag_max_ms": max(flood.lags_s) * 1000,
                "lag_samples": len(flood.lags_s),
                "full_gc_ms": [seconds * 1000 for seconds in flood.full_gc_s],
            }

        return {
            "budget": self.budget,
            "calls": self.calls,
            "rounds": [summary(flood) for flood in self.rounds],
            "burst": summary(self.burst),
            "lag_p99_ms": quantile(self.lags_s, 0.99) * 1000,
            "repair_issues": self.repair_issues,
            "small": self.small,
            "large": self.large,
            "held_small": self.held_small,
            "held_large": self.held_large,
            "growth_per_call_b": self.growth_per_call,
        }


async def _flood(bench: Bench, calls: Flood, index: int, *, burst: bool) -> FloodRound:
    """Raise the budget by FLOOD_BUDGET (but the first time), then flood the account.

    The flood starts from a collected heap, as the memory measures do: a full
    collection during it is then one that its own allocations brought about.
    """
    hass, sim, entry = bench.hass, bench.sim, bench.accounts.flood
    if index:
        # As a user would, in the account's options.
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, PER_HOUR: FLOOD_BUDGET * (index + 1)}
        )
        await hass.async_block_till_done()
    await sim.reset()
    before = calls.outcomes.copy()
    gc.collect()
    probe, collections = LagProbe(), GcPauses()
    try:
        await asyncio.sleep(0.05)
        cpu_start, start = time.thread_time(), time.perf_counter()
        await calls.fire(bench.plan.flood_calls, burst=burst)
        duration = time.perf_counter() - start
        cpu = time.thread_time() - cpu_start
        # A lag is sampled as its sleep ends: the one under way as the flood ends.
        await asyncio.sleep(SETTLE)
        end = time.perf_counter()
    finally:
        collections.stop()
        await probe.stop()
    outcomes = calls.outcomes - before
    return FloodRound(
        sent=outcomes["sent"],
        refused=outcomes["refused"],
        failed=sum(n for key, n in outcomes.items() if key.startswith("fail")),
        at_simulator=(await sim.stats()).calls,
        duration_s=duration,
        cpu_s=cpu,
        lags_s=tuple(probe.lags(start, end)),
        full_gc_s=tuple(collections.full(start, end)),
    )


async def flood(bench: Bench) -> FloodFigures:
    """Fire floods of calls at an account with a small budget; lag and memory.

    The account has the default rails and a budget of FLOOD_BUDGET calls an hour.
    `flood_calls` calls, each to a number of its own (the cooldown holds none back),
    are started as a script's loop would, at full speed: the first FLOOD_BUDGET are
    sent, the rest refused and never sent (counted at the simulator). Then, the
    budget used up, `flood_small` and `flood_large` refused calls (counted from the
    same start): the memory held after each (tracemalloc, after a garbage
    collection) must not grow with the number of refused calls. Before each further
    flood the budget is raised by FLOOD_BUDGET in the account's options, so that
    each sends FLOOD_BUDGET more; the loop's lag is sampled during the floods. Last,
    the same calls as a burst, all started at once (informative).
    """
    hass, sim, plan = bench.hass, bench.sim, bench.plan
    small, large = plan.flood_small, plan.flood_large
    bench.progress(
        f"flood: {plan.flood_rounds} × {plan.flood_calls} calls against a budget of "
        f"{FLOOD_BUDGET} an hour, a burst, then {large:,} refused"
    )
    calls = Flood(hass, bench.accounts.flood.entry_id)
    rounds = [await _flood(bench, calls, 0, burst=False)]
    # The budget is used up: every call is refused until it is raised. The first
    # calls fill what any call fills once (caches, the "Last call" state, the
    # failure's translation); then what the refused calls hold, counted twice. (This
    # comes before the options change for the other floods: the config entries'
    # delayed save would land in it.)
    at_simulator = (await sim.stats()).calls
    refused = calls.outcomes["refused"]
    # The flood's sent calls scheduled saving the counts 1 s later: write every
    # pending save now, so that none lands between the two snapshots (it holds the
    # serialized counts while it writes, which is no refused call's doing).
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    await calls.fire(small)
    with traced_memory() as traced:
        await calls.fire(small)
        held_small = traced.held()
        snapshot_small = tracemalloc.take_snapshot()
        await calls.fire(large - small)
        held_large = traced.held()
        snapshot_large = tracemalloc.take_snapshot()
    top = tuple(
        f"{stat.size_diff:8d} B  {stat.traceback.format()[0].strip()}"
        for stat in snapshot_large.compare_to(snapshot_small, "lineno")[:12]
    )
    if (sent := (await sim.stats()).calls - at_simulator) != 0:
        raise RuntimeError(f"{sent} calls reached the simulator past the budget")
    if calls.outcomes["refused"] - refused != small + large:
        raise RuntimeError(
            f"not every call past the budget was refused: {calls.outcomes}"
        )
    # The calls sent before the refused ones left connections in the pool: let the
    # simulator close them, so that no call of the next flood reuses one as it closes.
    await bench.no_pooled_connection()
    rounds += [
        await _flood(bench, calls, index, burst=False)
        for index in range(1, plan.flood_rounds)
    ]
    burst = await _flood(bench, calls, plan.flood_rounds, burst=True)
    await sim.reset()
    return FloodFigures(
        budget=FLOOD_BUDGET,
        calls=plan.flood_calls,
        rounds=tuple(rounds),
        burst=burst,
        repair_issues=sum(domain == DOMAIN for domain, _ in ir.async_get(hass).issues),
        small=small,
        large=large,
        held_small=held_small,
        held_large=held_large,
        top=top,
    )
