"""The "Last call" event entity of an account: every call's outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.components.event import EventEntity
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_SUCCESS,
    ATTR_WAIT,
    EVENT_ANSWERED,
    EVENT_FAILED,
    EVENT_REQUESTED,
    LAST_CALL_KEY,
)
from .entity import SpectronicsEntity

if TYPE_CHECKING:
    from . import SpectronicsConfigEntry

# The entity only reports; it sends nothing.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's "Last call" entity."""
    async_add_entities([SpectronicsLastCallEvent(entry)])


def event_type(result: Mapping[str, Any]) -> str:
    """Return the "Last call" event type of a call's result."""
    if not result[ATTR_SUCCESS]:
        return EVENT_FAILED
    return EVENT_ANSWERED if result[ATTR_WAIT] else EVENT_REQUESTED


class SpectronicsLastCallEvent(SpectronicsEntity, EventEntity):
    """Fires for every call of the account, whatever placed it."""

    _attr_translation_key = "last_call"
    _attr_event_types = [EVENT_REQUESTED, EVENT_ANSWERED, EVENT_FAILED]
    key = LAST_CALL_KEY

    async def async_added_to_hass(self) -> None:
        """Listen to the account's calls."""
        await super().async_added_to_hass()
        self.async_on_remove(self.entry.runtime_data.async_add_listener(self._on_call))

    @callback
    def _on_call(self, result: dict[str, Any], context: Context) -> None:
        """Show a call's outcome, with its data (never the token) as attributes."""
        # The state change then names what placed the call, as the event does.
        self.async_set_context(context)
        attributes = {
            key: value for key, value in result.items() if key != ATTR_CONFIG_ENTRY_ID
        }
        self._trigger_event(event_type(result), attributes)
        self.async_write_ha_state()
