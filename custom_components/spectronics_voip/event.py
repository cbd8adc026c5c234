"""The "Last call" event entity of an account: every call's outcome."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import EVENT_ANSWERED, EVENT_FAILED, EVENT_REQUESTED, LAST_CALL_KEY
from .dialer import CallResult, SpectronicsConfigEntry
from .entity import SpectronicsEntity

# The entity only reports; it sends nothing.
PARALLEL_UPDATES = 0

LAST_CALL = EventEntityDescription(
    key=LAST_CALL_KEY,
    translation_key="last_call",
    event_types=[EVENT_REQUESTED, EVENT_ANSWERED, EVENT_FAILED],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's "Last call" entity."""
    async_add_entities([SpectronicsLastCallEvent(entry, LAST_CALL)])


class SpectronicsLastCallEvent(SpectronicsEntity, EventEntity):
    """Fires for every call of the account, whatever placed it."""

    async def async_added_to_hass(self) -> None:
        """Listen to the account's calls; name this entity in their events."""
        await super().async_added_to_hass()
        self.async_on_remove(self.dialer.async_add_listener(self._on_call))
        self.dialer.last_call_entity_id = self.entity_id

    async def async_will_remove_from_hass(self) -> None:
        """Stop naming this entity in the account's call events."""
        self.dialer.last_call_entity_id = None

    @callback
    def _on_call(self, result: CallResult, context: Context) -> None:
        """Show a call's outcome, with its data (never the token) as attributes."""
        # The state change then names what placed the call, as the event does.
        self.async_set_context(context)
        attributes = result.as_dict()
        del attributes["config_entry_id"]
        self._trigger_event(result.event_type, attributes)
        self.async_write_ha_state()
