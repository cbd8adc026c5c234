"""The "Call" button of each quick-dial contact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SpectronicsContactEntity, async_setup_contact_entities
from .services import async_dial, contact_request

if TYPE_CHECKING:
    from . import SpectronicsConfigEntry

# Presses go to the account's dialer, which queues and limits calls itself.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a "Call" button for each contact."""
    async_setup_contact_entities(entry, async_add_entities, SpectronicsCallButton)


class SpectronicsCallButton(SpectronicsContactEntity, ButtonEntity):
    """Places the contact's call when pressed."""

    _attr_translation_key = "call"
    key = "call"

    async def async_press(self) -> None:
        """Place the contact's call."""
        request = contact_request(self.entry, self.subentry)
        await async_dial(
            self.entry, request, contact=self.contact, context=self._context
        )
