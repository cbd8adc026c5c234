"""Devices and base entities: the account, and one device per contact."""

from __future__ import annotations

from collections.abc import Callable, Collection

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
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
from .dialer import SpectronicsConfigEntry, SpectronicsDialer, ring_first

# A contact device's model says which phone its calls ring first.
CONTACT_MODELS: dict[str, str] = {
    RING_MY_EXTENSION: "Quick dial: your extension rings first",
    RING_CONTACT_NUMBER: "Their number rings first",
    RING_CONTACT_EXTENSION: "Their extension rings first",
}


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
    entry: SpectronicsConfigEntry, subentry_id: str
) -> tuple[str, str]:
    """Return the device identifier of a contact."""
    return (DOMAIN, f"{entry.entry_id}_{subentry_id}")


def contact_unique_id(
    entry: SpectronicsConfigEntry, subentry_id: str, description: EntityDescription
) -> str:
    """Return the unique id of a contact's entity."""
    return f"{entry.entry_id}_{subentry_id}_{description.key}"


def contacts_signal(entry: SpectronicsConfigEntry) -> str:
    """Return the signal sent when the account's contacts may have changed."""
    return f"{DOMAIN}_{entry.entry_id}_contacts"


@callback
def async_update_contact_devices(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> None:
    """Give each contact its device, named and modelled as the contact is now.

    A device of a contact that is gone is removed, with its entities (Home Assistant
    removes it with its subentry; this catches one left behind).
    """
    registry = dr.async_get(hass)
    contacts = {
        contact_identifier(entry, subentry_id)
        for subentry_id in entry.subentries  # all of them are contacts
    }
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if device.id != entry.runtime_data.device_id and not (
            device.identifiers & contacts
        ):
            registry.async_remove_device(device.id)
    for subentry_id, subentry in entry.subentries.items():
        device = registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            config_subentry_id=subentry_id,
            identifiers={contact_identifier(entry, subentry_id)},
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
    """An entity of an account, on the account's device."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, entry: SpectronicsConfigEntry, description: EntityDescription
    ) -> None:
        """Attach the entity to the account's device."""
        self.entry = entry
        self.entity_description = description
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = account_device_info(entry)

    @property
    def dialer(self) -> SpectronicsDialer:
        """Return the account's dialer."""
        return self.entry.runtime_data


class SpectronicsContactEntity(SpectronicsEntity):
    """An entity of a contact, reading the contact's settings at each call."""

    def __init__(
        self,
        entry: SpectronicsConfigEntry,
        description: EntityDescription,
        subentry: ConfigSubentry,
    ) -> None:
        """Attach the entity to the contact's device."""
        super().__init__(entry, description)
        self.subentry_id = subentry.subentry_id
        self._attr_unique_id = contact_unique_id(entry, self.subentry_id, description)
        # The device itself is made by async_update_contact_devices.
        self._attr_device_info = DeviceInfo(
            identifiers={contact_identifier(entry, self.subentry_id)}
        )

    @property
    def subentry(self) -> ConfigSubentry:
        """Return the contact as it is now (a change applies to the next call)."""
        return self.entry.subentries[self.subentry_id]

    async def async_call(self, cidname: str | None = None) -> None:
        """Place the contact's call as it is now (a change applies to the next)."""
        device = self.device_entry
        await self.dialer.async_call_contact(
            self.subentry,
            device.id if device else None,
            cidname=cidname,
            context=self._context,
        )


@callback
def async_setup_contact_entities(
    entry: SpectronicsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    platform: Platform,
    description: EntityDescription,
    make: Callable[[ConfigSubentry], Entity],
    *,
    kinds: Collection[str] = RING_FIRST_OPTIONS,
) -> None:
    """Keep one entity per contact whose call rings first one of `kinds`.

    Contacts added later get theirs; a contact changed to another kind loses it, as
    does one whose entity an older release registered (0.1 gave every contact a
    notify entity).
    """
    hass = entry.runtime_data.hass
    added: set[str] = set()

    @callback
    def async_update_contacts() -> None:
        """Add the entities contacts lack, remove those they no longer have."""
        registry = er.async_get(hass)
        for subentry_id, subentry in entry.subentries.items():  # all are contacts
            wanted = ring_first(subentry) in kinds
            if wanted and subentry_id not in added:
                added.add(subentry_id)
                async_add_entities([make(subentry)], config_subentry_id=subentry_id)
            elif not wanted:
                added.discard(subentry_id)
                if entity_id := registry.async_get_entity_id(
                    platform, DOMAIN, contact_unique_id(entry, subentry_id, description)
                ):
                    registry.async_remove(entity_id)
        added.intersection_update(entry.subentries)

    async_update_contacts()
    entry.async_on_unload(
        async_dispatcher_connect(hass, contacts_signal(entry), async_update_contacts)
    )
