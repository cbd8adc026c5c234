"""Place phone calls through Spectronics VoIP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_API_TOKEN, CONF_URL, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.typing import ConfigType

from .api import (
    SpectronicsAuthError,
    SpectronicsClient,
    SpectronicsError,
    SpectronicsExtensionError,
)
from .const import (
    CONF_CIDNAME,
    CONF_CONNECT_TO,
    CONF_DESTINATION,
    CONF_EXTENSION,
    CONF_REVERSE,
    CONF_RING_FIRST,
    CONF_SOURCE,
    CONF_WAIT,
    DOMAIN,
    RING_CONTACT_NUMBER,
    RING_MY_EXTENSION,
)
from .dialer import SpectronicsConfigEntry, SpectronicsDialer, call_counts_store
from .entity import account_device_info, async_update_contact_devices, contacts_signal
from .issues import (
    FailingCallsMonitor,
    async_check_url,
    async_delete_issues,
    async_watch_budget,
)
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS: list[Platform] = [
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NOTIFY,
    Platform.SENSOR,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, whether or not an account is set up."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: SpectronicsConfigEntry) -> bool:
    """Check the account once, without a destination, and set up its dialer."""
    async_check_url(hass, entry)
    client = _async_client(hass, entry)
    try:
        await client.check_credentials()
    except SpectronicsAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="setup_auth_failed"
        ) from err
    except SpectronicsExtensionError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="setup_extension_refused",
            translation_placeholders={"extension": client.extension},
        ) from err
    except SpectronicsError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="setup_not_ready",
            translation_placeholders={"error": str(err)},
        ) from err
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **account_device_info(entry)
    )
    entry.runtime_data = dialer = SpectronicsDialer(hass, entry, client, device.id)
    entry.async_on_unload(dialer.async_add_listener(FailingCallsMonitor(hass, entry)))
    entry.async_on_unload(async_watch_budget(hass, entry))
    await dialer.async_load()
    async_update_contact_devices(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # The account's one update listener. The config flow counts on it: a loaded
    # account takes a new token, extension or URL without a reload (see config_flow).
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


@callback
def _async_client(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> SpectronicsClient:
    """Return a client for the account's token, extension and URL."""
    return SpectronicsClient(
        async_get_clientsession(hass),
        entry.data[CONF_API_TOKEN],
        entry.data[CONF_EXTENSION],
        entry.data[CONF_URL],
    )


async def _async_update_listener(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> None:
    """Apply any change to the running account; nothing is reloaded, no call lost.

    Re-authentication and reconfiguration checked the new credentials already; calls
    in flight finish on the old client, the next ones use the new one.
    """
    dialer = entry.runtime_data
    if entry.data != dialer.entry_data:
        dialer.async_set_client(_async_client(hass, entry), entry.data)
        async_check_url(hass, entry)
        dr.async_get(hass).async_update_device(dialer.device_id, name=entry.title)
    dialer.lines.wake()  # the simultaneous-call limit may have grown
    dialer.async_counts_changed()  # so may the call budget
    async_update_contact_devices(hass, entry)
    async_dispatcher_send(hass, contacts_signal(entry))


async def async_migrate_entry(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> bool:
    """Give each contact of an older entry the kind that rings the same phones."""
    if entry.version > 1:
        return False  # made by a newer release of the integration
    if entry.minor_version < 2:
        for subentry in entry.subentries.values():  # all of them are contacts
            hass.config_entries.async_update_subentry(
                entry, subentry, data=contact_with_ring_first(subentry.data)
            )
        hass.config_entries.async_update_entry(entry, minor_version=2)
    return True


def contact_with_ring_first(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a contact of minor version 1 as the kind that rings the same phones.

    A source S with the destination D rang S first, then D: S's number rings first,
    connected to D. Reverse rang the destination first, then the extension: the
    number rings first, connected to the contact's extension (else the account's).
    Any other rang the extension first, as a quick-dial contact does.
    """
    kept = {key: data[key] for key in (CONF_CIDNAME, CONF_WAIT) if key in data}
    number = data[CONF_DESTINATION]
    extension = data.get(CONF_EXTENSION)
    if source := data.get(CONF_SOURCE):
        return kept | {
            CONF_RING_FIRST: RING_CONTACT_NUMBER,
            CONF_DESTINATION: source,
            CONF_CONNECT_TO: number,
        }
    if data.get(CONF_REVERSE):
        connect_to = {CONF_CONNECT_TO: extension} if extension else {}
        return (
            kept
            | connect_to
            | {
                CONF_RING_FIRST: RING_CONTACT_NUMBER,
                CONF_DESTINATION: number,
            }
        )
    own_extension = {CONF_EXTENSION: extension} if extension else {}
    return (
        kept
        | own_extension
        | {
            CONF_RING_FIRST: RING_MY_EXTENSION,
            CONF_DESTINATION: number,
        }
    )


async def async_unload_entry(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> bool:
    """Unload an account's entities; its calls in flight are cancelled with it."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> None:
    """Remove the account's repair issues and stored call counts with it."""
    async_delete_issues(hass, entry)
    await call_counts_store(hass, entry).async_remove()
