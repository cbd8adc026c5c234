"""The "Call" button of each contact, and the account's "Stop calls" button."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .dialer import SpectronicsConfigEntry
from .entity import (
    SpectronicsContactEntity,
    SpectronicsEntity,
    async_setup_contact_entities,
)

# Presses go to the account's dialer, which queues and limits calls itself.
PARALLEL_UPDATES = 0

CALL = ButtonEntityDescription(key="call", translation_key="call")
STOP_CALLS = ButtonEntityDescription(key="stop_calls", translation_key="stop_calls")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a "Call" button for each contact, and the account's "Stop calls"."""
    async_add_entities([SpectronicsStopCallsButton(entry, STOP_CALLS)])
    async_setup_contact_entities(
        entry,
        async_add_entities,
        Platform.BUTTON,
        CALL,
        lambda subentry: SpectronicsCallButton(entry, CALL, subentry),
    )


class SpectronicsCallButton(SpectronicsContactEntity, ButtonEntity):
    """Places the contact's call when pressed."""

    async def async_press(self) -> None:
        """Place the contact's call."""
        await self.async_call()


class SpectronicsStopCallsButton(SpectronicsEntity, ButtonEntity):
    """Ends the account's escalations and drops the calls waiting for a line.

    Open to every user: stopping is always safe. A request already sent rings on.
    """

    async def async_press(self) -> None:
        """Stop everything the account would still ring."""
        self.dialer.async_stop()
