"""Counters of an account's calls: today, and in the last hour, with their budgets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .dialer import Budget, SpectronicsConfigEntry, counts_signal
from .entity import SpectronicsEntity

# The counters only read the account's counts; they send nothing.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CallCounterDescription(SensorEntityDescription):
    """A counter of calls, and which of the budget's figures it shows."""

    value: Callable[[tuple[int, int]], int]  # from (last hour, today)
    budget: Callable[[tuple[int, int]], int]  # from (per hour, per day)


# No unit: a count of calls has none in Home Assistant, and "1 calls" reads badly.
COUNTERS = (
    CallCounterDescription(
        key="calls_today",
        translation_key="calls_today",
        # Counts up from local midnight, when it starts again from 0.
        state_class=SensorStateClass.TOTAL_INCREASING,
        value=lambda counts: counts[1],
        budget=lambda limits: limits[1],
    ),
    CallCounterDescription(
        key="calls_last_hour",
        translation_key="calls_last_hour",
        state_class=SensorStateClass.MEASUREMENT,
        value=lambda counts: counts[0],
        budget=lambda limits: limits[0],
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's call counters."""
    async_add_entities(
        SpectronicsCallCounter(entry, description) for description in COUNTERS
    )


class SpectronicsCallCounter(SpectronicsEntity, SensorEntity):
    """Calls that reached the provider, restored across restarts by the account."""

    entity_description: CallCounterDescription

    @property
    def _budget(self) -> Budget:
        """Return the account's call budget, which counts the calls."""
        return self.dialer.budget

    @property
    def native_value(self) -> int:
        """Return the count of calls."""
        return self.entity_description.value(self._budget.counts(dt_util.utcnow()))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the budget the count is held to (None: no budget)."""
        return {"budget": self.entity_description.budget(self._budget.limits) or None}

    async def async_added_to_hass(self) -> None:
        """Follow the account's counts."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, counts_signal(self.entry), self._async_counts_changed
            )
        )

    @callback
    def _async_counts_changed(self) -> None:
        """Show the new counts."""
        self.async_write_ha_state()
