"""Devices and base entities: the account, and one device per contact."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, ClassVar

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    DOMAIN,
    MANUFACTURER,
    PROVIDER_URL,
    RING_CONTACT_EXTENSION,
    RING_CONTACT_NUMBER,
    RING_FIRST_OPTIONS,
    RING_MY_EXTENSION,
)
from .dialer import Contact, ring_first

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


# A contact device's model says which phone its calls ring first.
CONTACT_MODELS: dict[str, str] = {
    RING_MY_EXTENSION: "Quick dial: your extension rings first",
    RING_CONTACT_NUMBER: "Their number rings first",
    RING_CONTACT_EXTENSION: "Their extension rings first",
}


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
            model=CONTACT_MODELS[ring_first(subentry)],
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
        """Return the contact as it is now: its name, device and first leg."""
        device = self.device_entry
        subentry = self.subentry
        return Contact(
            subentry.title, device.id if device else None, ring_first(subentry)
        )


@callback
def async_setup_contact_entities(
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make: Callable[[SpectronicsConfigEntry, ConfigSubentry], Entity],
    kinds: Collection[str] = RING_FIRST_OPTIONS,
) -> None:
    """Keep one entity per contact whose call rings first one of `kinds`.

    Contacts added later get theirs; a contact changed to another kind loses it.
    """
    added: dict[str, Entity] = {}

    @callback
    def async_update_contacts() -> None:
        """Add the entities contacts lack, remove those they no longer have."""
        registry = er.async_get(entry.runtime_data.hass)
        for subentry_id in list(added):
            subentry = entry.subentries.get(subentry_id)
            if subentry is not None and ring_first(subentry) in kinds:
                continue
            entity = added.pop(subentry_id)
            if subentry is not None and entity.entity_id in registry.entities:
                registry.async_remove(entity.entity_id)
        for subentry_id, subentry in entry.subentries.items():  # all are contacts
            if subentry_id in added or ring_first(subentry) not in kinds:
                continue
            added[subentry_id] = entity = make(entry, subentry)
            async_add_entities([entity], config_subentry_id=subentry_id)

    async_update_contacts()
    entry.async_on_unload(
        async_dispatcher_connect(
            entry.runtime_data.hass, contacts_signal(entry), async_update_contacts
        )
    )
