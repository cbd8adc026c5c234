"""The registry of measures: each returns typed figures that declare its targets.

To add a measure, write `async def my_measure(bench: Bench) -> MyFigures` and its
figures (a frozen dataclass deriving from figures.Figures, with its `targets`), then
list it in MEASURES: the report prints it, judges it, and writes it to the JSON file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from benchmarks.figures import Figures
from benchmarks.harness import Bench
from benchmarks.measures.budget import budget_cost, flood
from benchmarks.measures.escalation import escalation
from benchmarks.measures.paths import in_flight, latency, sequential, stubbed
from benchmarks.measures.pending import concurrency, memory, queue
from benchmarks.measures.run import connection_limits, suppressed
from benchmarks.measures.setup import contact_setup, entry_setup, import_time


@dataclass(frozen=True, slots=True)
class Measure:
    """A measure, by the key of its figures in the JSON file."""

    key: str
    run: Callable[[Bench], Awaitable[Figures]]


# In the order they run, which is the order they print in. The accounts with contacts
# are set up right after the harness's (a few seconds later, Home Assistant's start-up
# still slows one set-up); memory runs before concurrency, which leaves no idle
# connection behind it; suppressed runs last, as it counts the calls of the whole run.
MEASURES = (
    Measure("setup", entry_setup),
    Measure("contact_setup", contact_setup),
    Measure("import", import_time),
    Measure("latency", latency),
    Measure("memory", memory),
    Measure("concurrency", concurrency),
    Measure("sequential_calls_per_s", sequential),
    Measure("in_flight", in_flight),
    Measure("escalation", escalation),
    Measure("queue", queue),
    Measure("stubbed_us", stubbed),
    Measure("budget", budget_cost),
    Measure("flood", flood),
    Measure("suppressed_calls", suppressed),
    Measure("connection_limits", connection_limits),
)
