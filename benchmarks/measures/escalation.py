"""Measure of call_until_answered against the same escalation as a script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
import statistics
import time

from benchmarks.figures import Figures, Target, at_most
from benchmarks.harness import Bench
from benchmarks.harness.config import DOMAIN, ESCALATION_NUMBERS, FORM, SCRIPT_NAME
from benchmarks.harness.timing import quantile


@dataclass(frozen=True, slots=True)
class Timing:
    """The median and p95 of one way's runs, in ms."""

    median_ms: float
    p95_ms: float


@dataclass(frozen=True, slots=True)
class EscalationFigures(Figures):
    """call_until_answered and the same escalation as a rest_command script."""

    call_until_answered: Timing
    script: Timing
    runs: int

    @property
    def ratio(self) -> float:
        """Return call_until_answered's median over the script's."""
        return self.call_until_answered.median_ms / self.script.median_ms

    def targets(self) -> Sequence[Target]:
        """Return issue 8's target, and the gross regression that gates --short."""
        return (
            at_most(
                "call_until_answered, 3 numbers (2 reject at once) ≤ 1.0 × the same as "
                "a rest_command script (issue 8)",
                self.ratio,
                1.0,
            ),
            at_most(
                "call_until_answered ≤ 2 × the rest_command script",
                self.ratio,
                2.0,
                gates_short=True,
            ),
        )

    def blocks(self) -> Sequence[str]:
        """Return both ways' times and their ratio."""
        action, script = self.call_until_answered, self.script
        return (
            (
                f"Escalation, {self.runs} runs each, taking turns: three numbers, the first "
                "two rejecting at once, the third answering (three wait=1 requests). "
                f"`call_until_answered` median {action.median_ms:.2f} ms (p95 "
                f"{action.p95_ms:.2f} ms); the same as a script of `rest_command` in a "
                f"`repeat`/`until` loop median {script.median_ms:.2f} ms (p95 "
                f"{script.p95_ms:.2f} ms): {self.ratio:.2f} ×."
            ),
        )

    def ratios(self) -> Mapping[str, float]:
        """Return call_until_answered's median over the script's."""
        return {"escalation_over_script": self.ratio}


async def escalation(bench: Bench) -> EscalationFigures:
    """Time call_until_answered against a script of rest_command in a repeat loop.

    Three numbers, the first two rejecting at once (the simulator rings for 0 s), the
    third answering: each run sends three wait=1 requests, checked at the simulator
    before measuring. The two take turns, each first every other run.
    """
    hass, sim, count = bench.hass, bench.sim, bench.plan.escalations
    bench.progress(
        f"escalation: {count} runs each, call_until_answered and a rest_command script"
    )
    data = {
        "config_entry_id": bench.accounts.bench.entry_id,
        "destinations": list(ESCALATION_NUMBERS),
    }

    async def integration() -> None:
        response = await hass.services.async_call(
            DOMAIN, "call_until_answered", data, blocking=True, return_response=True
        )
        if response is None or response["answered_by"] != ESCALATION_NUMBERS[-1]:
            raise RuntimeError(f"call_until_answered: {response}")

    async def script() -> None:
        await hass.services.async_call("script", SCRIPT_NAME, blocking=True)

    ways: dict[str, Callable[[], Awaitable[None]]] = {
        "call_until_answered": integration,
        "script": script,
    }
    await sim.ring(0)
    try:
        for name, run in ways.items():
            await sim.reset()
            await run()
            stats = await sim.stats()
            last = (await sim.last()).form()
            if stats.calls != len(ESCALATION_NUMBERS) or last != FORM | {
                "source": ESCALATION_NUMBERS[-1],
                "wait": "1",
            }:
                raise RuntimeError(
                    f"{name} did not ring the three numbers: {stats}, last "
                    f"{ {key: value for key, value in last.items() if key != 'auth'} }"
                )
        times: dict[str, list[float]] = {name: [] for name in ways}
        for index in range(count):
            names = list(ways) if index % 2 == 0 else list(ways)[::-1]
            for name in names:
                start = time.perf_counter()
                await ways[name]()
                times[name].append(time.perf_counter() - start)
        await sim.reset()
    finally:
        await sim.ring(bench.plan.ring_time)
    timing = {
        name: Timing(statistics.median(values) * 1000, quantile(values, 0.95) * 1000)
        for name, values in times.items()
    }
    return EscalationFigures(timing["call_until_answered"], timing["script"], count)
