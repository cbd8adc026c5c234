"""Devices and base entities: the account, and one device per contact."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
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


def contacts_signal(entry: SpectronicsConfigEntry) -> str:
    """Return the signal sent when the account's contacts may have changed."""
    return f"{DOMAIN}_{entry.entry_id}_contacts"


@callback
def async_update_contact_devices(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> None:
    """Create or rename each contact's device, tied to its subentry and the account.

    A removed contact's device goes with its subentry: Home Assistant removes it.
    """
    registry = dr.async_get(hass)
    for subentry in entry.subentries.values():  # all of them are contacts
        device = registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            config_subentry_id=subentry.subentry_id,
            identifiers={contact_identifier(entry, subentry)},
            name=subentry.title,
            manufacturer=MANUFACTURER,
            model="Quick-dial contact",
            entry_type=DeviceEntryType.SERVICE,
        )
        via_device_id = entry.runtime_data.device_id
        if device.via_device_id != via_device_id:
            # Set here rather than in DeviceInfo: 2026.x deprecates its via_device.
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


@callback
def async_setup_contact_entities(
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make: Callable[[SpectronicsConfigEntry, ConfigSubentry], Entity],
) -> None:
    """Add each contact's entities now, and those of contacts added later."""
    added: set[str] = set()

    @callback
    def async_add_new_contacts() -> None:
        """Add the entities of the contacts that have none yet."""
        for subentry_id, subentry in entry.subentries.items():  # all are contacts
            if subentry_id in added:
                continue
            added.add(subentry_id)
            async_add_entities([make(entry, subentry)], config_subentry_id=subentry_id)

    async_add_new_contacts()
    entry.async_on_unload(
        async_dispatcher_connect(
            entry.runtime_data.hass, contacts_signal(entry), async_add_new_contacts
        )
    )
