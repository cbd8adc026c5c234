"""The harness: Home Assistant in this process, the simulator in another, the accounts.

`started(plan)` sets it all up and yields a Bench, which every measure is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
import contextlib
from dataclasses import dataclass
import sys

from benchmarks.harness.accounts import Accounts, SetupTimes, set_up
from benchmarks.harness.home_assistant import home_assistant
from benchmarks.harness.paths import Call, CallPath, check_same_form, make_calls
from benchmarks.harness.plan import Plan
from benchmarks.harness.simulator import KEEPALIVE, SimulatorProcess
from homeassistant.core import HomeAssistant


def out(text: str = "") -> None:
    """Write one line to stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass(frozen=True, slots=True)
class Bench:
    """What a measure is given: the plan, Home Assistant, the simulator, the paths."""

    plan: Plan
    hass: HomeAssistant
    sim: SimulatorProcess
    accounts: Accounts
    calls: Mapping[CallPath, Call]
    setup_times: SetupTimes

    def progress(self, text: str) -> None:
        """Say which measure runs now."""
        out(f"  {text} …")

    async def no_pooled_connection(self) -> None:
        """Wait until the simulator has closed every idle connection."""
        await asyncio.sleep(KEEPALIVE + 0.5)

    async def fresh_simulator(self) -> None:
        """Reset the simulator's counts, then wait until no connection is pooled."""
        await self.sim.reset()
        await self.no_pooled_connection()


@contextlib.asynccontextmanager
async def started(plan: Plan) -> AsyncIterator[Bench]:
    """Start the simulator and Home Assistant, set up the accounts, check the paths."""
    with contextlib.closing(SimulatorProcess(plan.ring_time)) as sim:
        async with home_assistant() as hass:
            accounts, setup_times = await set_up(hass, sim.url, plan.reloads)
            calls = make_calls(hass, sim.url, accounts)
            await check_same_form(hass, sim, calls)
            yield Bench(plan, hass, sim, accounts, calls, setup_times)
