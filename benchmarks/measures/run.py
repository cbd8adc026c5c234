"""Measures of the whole run: calls the cooldown held back, the session's limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.figures import Figures, Target, zero
from benchmarks.harness import Bench
from benchmarks.harness.internals import suppressed_calls
from homeassistant.helpers import aiohttp_client
from homeassistant.helpers.aiohttp_client import async_get_clientsession


@dataclass(frozen=True, slots=True)
class SuppressedFigures(Figures):
    """Calls that the cooldown held back in the whole run."""

    calls: int

    def targets(self) -> Sequence[Target]:
        """Return the check that every call reached the provider, which gates --short."""
        return (
            zero(
                "no call held back by the cooldown (each reached the provider)",
                self.calls,
            ),
        )

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return the calls held back."""
        return (("calls held back by the cooldown in the whole run", str(self.calls)),)

    def json(self) -> object:
        """Return the number of calls held back."""
        return self.calls


async def suppressed(bench: Bench) -> SuppressedFigures:
    """Count the calls of the benchmark's accounts that the cooldown held back."""
    return SuppressedFigures(suppressed_calls(bench.accounts.all))


@dataclass(frozen=True, slots=True)
class ConnectionLimits(Figures):
    """The shared session's connection limits, and Home Assistant's constants."""

    per_host: int | None
    total: int | None
    maximum_per_host: int
    maximum: int
    concurrent_calls: int

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return the limits per host and in all."""
        return (
            (
                "shared session's connection limit per host / total",
                f"{self.per_host} / {self.total}",
            ),
        )

    def blocks(self) -> Sequence[str]:
        """Return whether the concurrent calls fit within the limit per host."""
        calls, per_host = self.concurrent_calls, self.per_host
        if per_host is not None and calls > per_host:
            return (
                (
                    f"Note: {calls} concurrent calls need {calls} connections to one host; "
                    f"Home Assistant's shared session allows {per_host} per host, so the "
                    "rest queue."
                ),
            )
        room = (
            " with no room to spare: one more would wait a full ring time."
            if calls == per_host
            else "."
        )
        return (
            (
                f"Note: {calls} concurrent wait=1 calls hold {calls} connections to one "
                f"host; the shared session allows {per_host} per host ({self.total} in "
                f"all), so the target fits{room}"
            ),
        )

    def json(self) -> object:
        """Return the limits under the names the JSON file has always used."""
        return {
            "per_host": self.per_host,
            "total": self.total,
            "MAXIMUM_CONNECTIONS_PER_HOST": self.maximum_per_host,
            "MAXIMUM_CONNECTIONS": self.maximum,
        }


async def connection_limits(bench: Bench) -> ConnectionLimits:
    """Read the shared session's connection limits."""
    connector = async_get_clientsession(bench.hass).connector
    return ConnectionLimits(
        per_host=connector.limit_per_host if connector else None,
        total=connector.limit if connector else None,
        maximum_per_host=aiohttp_client.MAXIMUM_CONNECTIONS_PER_HOST,
        maximum=aiohttp_client.MAXIMUM_CONNECTIONS,
        concurrent_calls=bench.plan.concurrent,
    )
