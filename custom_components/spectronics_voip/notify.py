"""A notify entity for each quick-dial contact: the message becomes the caller name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.notify import NotifyEntity, NotifyEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import fit_cidname
from .const import CONTACT_RINGS_FIRST
from .entity import SpectronicsContactEntity, async_setup_contact_entities
from .services import async_dial, contact_request

if TYPE_CHECKING:
    from . import SpectronicsConfigEntry

# Messages go to the account's dialer, which queues and limits calls itself.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a notify entity for each contact whose own phone rings first.

    A quick-dial contact has none: its message would show on your own extension.
    """
    async_setup_contact_entities(
        entry, async_add_entities, SpectronicsNotifyEntity, CONTACT_RINGS_FIRST
    )


class SpectronicsNotifyEntity(SpectronicsContactEntity, NotifyEntity):
    """Calls the contact, showing the message (or the title) as the caller name."""

    _attr_name = None
    _attr_translation_key = "contact"
    _attr_supported_features = NotifyEntityFeature.TITLE
    key = "notify"

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Place the contact's call with the title, else the message, as caller name."""
        cidname = fit_cidname(title or "") or fit_cidname(message)
        request = contact_request(self.entry, self.subentry, cidname)
        await async_dial(
            self.entry, request, contact=self.contact, context=self._context
        )
