"""Devices and base entities: the account, and one device per contact."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, MANUFACTURER, PROVIDER_URL
from .dialer import Contact

if TYPE_CHECKING:
    from . import SpectronicsConfigEntry


def account_device_info(entry: SpectronicsConfigEntry) -> DeviceInfo:
    """Return the device of the account (its extension)."""
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=MANUFACTURER,
        model="Outgoing-calls API 0.9.3",
        entry_type=DeviceEntryType.SERVICE,
        configuration_url=PROVIDER_URL,
    )


def contact_identifier(
    entry: SpectronicsConfigEntry, subentry: ConfigSubentry
) -> tuple[str, str]:
    """Return the device identifier of a contact."""
    return (DOMAIN, f"{entry.entry_id}_{subentry.subentry_id}")


@callback
def async_update_contact_device(
    hass: HomeAssistant, entry: SpectronicsConfigEntry, subentry: ConfigSubentry
) -> None:
    """Create or rename a contact's device, tied to its subentry and to the account."""
    registry = dr.async_get(hass)
    device = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        config_subentry_id=subentry.subentry_id,
        identifiers={contact_identifier(entry, subentry)},
        name=subentry.title,
        manufacturer=MANUFACTURER,
        model="Quick-dial contact",
        entry_type=DeviceEntryType.SERVICE,
    )
    # Looked up among the entry's devices: 2026.x deprecates async_get_device.
    via_device_id = next(
        (
            account.id
            for account in dr.async_entries_for_config_entry(registry, entry.entry_id)
            if (DOMAIN, entry.entry_id) in account.identifiers
        ),
        None,
    )
    if device.via_device_id != via_device_id:
        # Set here rather than in DeviceInfo, whose via_device 2026.x deprecates.
        registry.async_update_device(device.id, via_device_id=via_device_id)


class SpectronicsEntity(Entity):
    """An entity of an account; `key` ends its unique id."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    key: ClassVar[str]

    def __init__(self, entry: SpectronicsConfigEntry) -> None:
        """Attach the entity to the account's device."""
        self.entry = entry
        self._attr_unique_id = f"{entry.entry_id}_{self.key}"
        self._attr_device_info = account_device_info(entry)


class SpectronicsContactEntity(Entity):
    """An entity of a quick-dial contact, reading the contact's settings at each call."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    key: ClassVar[str]

    def __init__(self, entry: SpectronicsConfigEntry, subentry: ConfigSubentry) -> None:
        """Attach the entity to the contact's device."""
        self.entry = entry
        self.subentry_id = subentry.subentry_id
        self._attr_unique_id = f"{entry.entry_id}_{subentry.subentry_id}_{self.key}"
        # The device itself is made by async_update_contact_device.
        self._attr_device_info = DeviceInfo(
            identifiers={contact_identifier(entry, subentry)}
        )

    @property
    def subentry(self) -> ConfigSubentry:
        """Return the contact as it is now (a reconfigure applies to the next call)."""
        return self.entry.subentries[self.subentry_id]

    @property
    def contact(self) -> Contact:
        """Return the contact's name as it is now, and its device."""
        device = self.device_entry
        return Contact(self.subentry.title, device.id if device else None)


def async_setup_contact_entities(
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make: Callable[[SpectronicsConfigEntry, ConfigSubentry], Entity],
) -> None:
    """Add each contact's entities now, and those of contacts added later."""
    added: set[str] = set()

    def add_new_contacts() -> None:
        """Add the entities of the contacts that have none yet."""
        for subentry_id, subentry in entry.subentries.items():  # all are contacts
            if subentry_id in added:
                continue
            added.add(subentry_id)
            async_update_contact_device(entry.runtime_data.hass, entry, subentry)
            async_add_entities([make(entry, subentry)], config_subentry_id=subentry_id)

    async def async_entry_updated(
        hass: HomeAssistant, entry: SpectronicsConfigEntry
    ) -> None:
        """Add the entities of a contact just created."""
        add_new_contacts()

    add_new_contacts()
    entry.async_on_unload(entry.add_update_listener(async_entry_updated))
