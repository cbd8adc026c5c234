"""How many calls each phase of the benchmark makes: the full run, or short for CI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plan:
    """How many calls each phase makes, and whether every target gates the run."""

    name: str
    command: str
    every_target_gates: bool
    warmup: int
    interleaved: int
    sequential: int
    in_flight_calls: int
    reloads: int
    import_runs: int
    profile_calls: int
    stubbed: int
    escalations: int
    budget_calls: int
    budget_stubbed: int
    queued: int = 1000
    sequential_block: int = 50
    in_flight: int = 50
    concurrent: int = 100
    ring_time: float = 3.0
    # The flood against a small budget, then the refused calls whose memory is read.
    flood_calls: int = 500
    flood_rounds: int = 5
    flood_small: int = 500
    flood_large: int = 5000


FULL = Plan(
    "full",
    "scripts/bench",
    every_target_gates=True,
    warmup=100,
    interleaved=1000,
    sequential=800,
    in_flight_calls=1200,
    reloads=20,
    import_runs=5,
    profile_calls=3000,
    stubbed=4000,
    escalations=300,
    budget_calls=2000,
    budget_stubbed=4000,
)
# CI: fewer calls; only the gross-regression checks gate the run.
SHORT = Plan(
    "short",
    "scripts/bench --short",
    every_target_gates=False,
    warmup=20,
    interleaved=160,
    sequential=200,
    sequential_block=25,
    in_flight_calls=300,
    reloads=5,
    import_runs=2,
    profile_calls=500,
    stubbed=800,
    escalations=60,
    budget_calls=300,
    budget_stubbed=800,
    flood_rounds=2,
    flood_small=200,
    flood_large=2000,
)
