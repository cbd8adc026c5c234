"""Every place where the benchmark reaches inside the integration.

Everything else goes through what a user has: actions, entities, events and config
entries. What is here depends on the integration's internals (the dialer that an
entry carries as runtime data, its client, the module's async_setup_entry): when
those change, only this file has to follow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
import contextlib
from dataclasses import dataclass, field
import time
from typing import Any
from unittest.mock import patch

from benchmarks.harness.config import DOMAIN
from homeassistant import loader
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant


@dataclass(frozen=True, slots=True)
class Lines:
    """An account's calls holding a line, and those waiting for one."""

    active: int
    queued: int


@dataclass(slots=True)
class SetupEntryTimes:
    """How long loading the integration took, and each async_setup_entry since."""

    load_s: float
    setup_entry_s: list[float] = field(default_factory=list)


@contextlib.asynccontextmanager
async def timing_setup_entry(hass: HomeAssistant) -> AsyncIterator[SetupEntryTimes]:
    """Load the integration, then time each call of its async_setup_entry until exit."""
    start = time.perf_counter()
    integration = await loader.async_get_integration(hass, DOMAIN)
    component = await integration.async_get_component()
    times = SetupEntryTimes(time.perf_counter() - start)
    original = component.async_setup_entry

    async def timed_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        start = time.perf_counter()
        try:
            return await original(hass, entry)
        finally:
            times.setup_entry_s.append(time.perf_counter() - start)

    with patch.object(component, "async_setup_entry", timed_setup_entry):
        yield times


def suppressed_calls(entries: Iterable[ConfigEntry]) -> int:
    """Return how many calls of these accounts the cooldown held back."""
    return sum(entry.runtime_data.counts["suppressed"] for entry in entries)


def lines(entry: ConfigEntry) -> Lines:
    """Return the account's calls holding a line and those queued for one."""
    limiter = entry.runtime_data.lines
    return Lines(limiter.active, limiter.queued)


@contextlib.contextmanager
def post_replaced_by_ok(entries: Iterable[ConfigEntry]) -> Iterator[None]:
    """Replace the accounts' client POST by an immediate OK while open."""
    # Imported here, once Home Assistant's loader has imported the integration: an
    # import at the top would import it before the set-up that is timed.
    from custom_components.spectronics_voip.api import CallReply  # noqa: PLC0415

    async def accepted(request: Any, *, wait_timeout: float | None = None) -> Any:
        return CallReply(request, "Call request sent")

    with contextlib.ExitStack() as stack:
        for entry in entries:
            stack.enter_context(
                patch.object(entry.runtime_data.client, "place_call", accepted)
            )
        yield


def counts_not_passed_on(
    entry: ConfigEntry, call: Callable[[], Awaitable[bool]]
) -> Callable[[], Awaitable[bool]]:
    """Return `call` with the account's call counts kept but not passed on.

    While the call runs, the dialer's async_counts_changed (which tells the counter
    sensors and the budget's repair issue, and schedules saving the counts) does
    nothing: what is left of counting is appending the call to the budget's list.
    """
    dialer = entry.runtime_data

    def nothing(fired: object = None) -> None:
        """Pass nothing on."""

    async def quiet() -> bool:
        vars(dialer)["async_counts_changed"] = nothing  # shadows the method
        try:
            return await call()
        finally:
            del vars(dialer)["async_counts_changed"]

    return quiet
