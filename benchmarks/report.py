"""The report: the figures as Markdown tables, judged against their targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
import json
import os
from pathlib import Path
import platform

import aiohttp

from benchmarks.figures import Figures, Target, zero
from benchmarks.harness import out
from benchmarks.harness.paths import CallPath
from benchmarks.harness.plan import Plan
from homeassistant.const import __version__ as HA_VERSION


@dataclass(frozen=True, slots=True)
class Environment:
    """The machine and the versions the figures were measured on."""

    python: str
    homeassistant: str
    aiohttp: str
    cpus: int | None
    load_before: str
    platform: str

    @classmethod
    def now(cls) -> Environment:
        """Describe this machine as it is now."""
        return cls(
            python=platform.python_version(),
            homeassistant=HA_VERSION,
            aiohttp=aiohttp.__version__,
            cpus=os.cpu_count(),
            load_before=" ".join(f"{value:.2f}" for value in os.getloadavg()),
            platform=platform.platform(),
        )


def lost_calls(results: Mapping[str, Figures]) -> int:
    """Return the calls lost over every measure."""
    return sum(figures.lost_calls() for figures in results.values())


def judge(results: Mapping[str, Figures]) -> list[Target]:
    """Return every measure's targets, and the check that no call was lost at all."""
    return [
        *(target for figures in results.values() for target in figures.targets()),
        zero("no concurrent or queued call lost", lost_calls(results)),
    ]


def _paths_table(results: Mapping[str, Figures]) -> str:
    """Return the table of paths, a column for each figure measured per path."""
    columns = [column for figures in results.values() for column in figures.columns()]
    if not columns:
        return ""
    lines = [
        "| Path | " + " | ".join(column.header for column in columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    lines.extend(
        f"| {path.label} | "
        + " | ".join(column.cells.get(path, "–") for column in columns)
        + " |"
        for path in CallPath
    )
    return "\n".join(lines)


def _targets_table(
    header: str, targets: Sequence[Target], met: str, not_met: str
) -> str:
    """Return a table of targets: name, limit, this run's value, verdict."""
    lines = [f"| {header} | limit | this run | |", "| --- | --- | --- | --- |"]
    lines.extend(
        f"| {target.name} | {target.limit} | {target.value} | "
        f"{met if target.met else not_met} |"
        for target in targets
    )
    return "\n".join(lines)


def print_report(
    plan: Plan,
    environment: Environment,
    results: Mapping[str, Figures],
    targets: Sequence[Target],
) -> None:
    """Print the figures and the targets, in Markdown."""
    out()
    out(
        f"Mode {plan.name}: `{plan.command}` — Python {environment.python}, Home "
        f"Assistant {environment.homeassistant}, aiohttp {environment.aiohttp}, "
        f"{environment.cpus} CPUs, load average {environment.load_before} before the "
        "run."
    )
    blocks = [
        _paths_table(results),
        *(block for figures in results.values() for block in figures.blocks()),
        "\n".join(
            [
                "| Other figure | value |",
                "| --- | ---: |",
                *(
                    f"| {name} | {value} |"
                    for figures in results.values()
                    for name, value in figures.rows()
                ),
            ]
        ),
        _targets_table(
            "Target"
            if plan.every_target_gates
            else "Target (full run only; informative here)",
            [target for target in targets if not target.gates_short],
            "met",
            "**missed**",
        ),
        _targets_table(
            "Gross-regression check (gates --short)",
            [target for target in targets if target.gates_short],
            "ok",
            "**FAILED**",
        ),
    ]
    for block in filter(None, blocks):
        out()
        out(block)


def print_details(results: Mapping[str, Figures]) -> None:
    """Print what only --verbose prints."""
    for figures in results.values():
        for block in figures.details():
            out()
            out(block)


def write_json(
    path: Path,
    *,
    plan: Plan,
    environment: Environment,
    results: Mapping[str, Figures],
    targets: Sequence[Target],
    duration_s: float,
) -> None:
    """Write every figure and target to `path`."""
    figures: dict[str, object] = {
        key: figures.json() for key, figures in results.items()
    }
    figures["ratios"] = {
        name: ratio
        for figures in results.values()
        for name, ratio in figures.ratios().items()
    }
    figures["lost_calls"] = lost_calls(results)
    figures["duration_s"] = duration_s

    def verdicts(gates_short: bool) -> list[dict[str, object]]:
        return [
            {
                "name": target.name,
                "limit": target.limit,
                "value": target.value,
                "met": target.met,
            }
            for target in targets
            if target.gates_short is gates_short
        ]

    document = {
        "mode": plan.name,
        "environment": asdict(environment),
        "figures": figures,
        "targets": verdicts(False),
        "gross": verdicts(True),
    }
    path.write_text(json.dumps(document, indent=2, default=str))


def verdict(plan: Plan, targets: Sequence[Target]) -> int:
    """Print which targets failed; return the exit code."""
    gross_failed = [t.name for t in targets if t.gates_short and not t.met]
    missed = [t.name for t in targets if not t.gates_short and not t.met]
    if gross_failed:
        out(f"FAILED: gross regression: {'; '.join(gross_failed)}")
        return 1
    if missed and plan.every_target_gates:
        out(f"FAILED: target missed: {'; '.join(missed)}")
        return 1
    if missed:
        out(f"Targets missed in this short run (not gating): {'; '.join(missed)}")
    out("OK")
    return 0
