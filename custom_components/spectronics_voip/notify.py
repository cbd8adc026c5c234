"""A notify entity for each contact whose own phone rings first."""

from __future__ import annotations

from homeassistant.components.notify import (
    NotifyEntity,
    NotifyEntityDescription,
    NotifyEntityFeature,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import fit_cidname
from .const import CONTACT_RINGS_FIRST
from .dialer import SpectronicsConfigEntry
from .entity import SpectronicsContactEntity, async_setup_contact_entities

# Messages go to the account's dialer, which queues and limits calls itself.
PARALLEL_UPDATES = 0

# Named after its device (the contact): notify.mum.
MESSAGE = NotifyEntityDescription(key="notify", translation_key="contact", name=None)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a notify entity for each contact whose own phone rings first.

    A quick-dial contact has none: its message would show on your own extension.
    """
    async_setup_contact_entities(
        entry,
        async_add_entities,
        Platform.NOTIFY,
        MESSAGE,
        lambda subentry: SpectronicsNotifyEntity(entry, MESSAGE, subentry),
        kinds=CONTACT_RINGS_FIRST,
    )


class SpectronicsNotifyEntity(SpectronicsContactEntity, NotifyEntity):
    """Calls the contact, showing the message (or the title) as the caller name."""

    _attr_supported_features = NotifyEntityFeature.TITLE

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Place the contact's call with the title, else the message, as caller name."""
        cidname = fit_cidname(title or "") or fit_cidname(message)
        await self.async_call(cidname)
