"""Place phone calls through Spectronics VoIP."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
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
from .const import CONF_EXTENSION, DOMAIN
from .dialer import SpectronicsDialer
from .entity import account_device_info, async_update_contact_devices, contacts_signal
from .issues import FailingCallsMonitor, async_check_url, async_delete_issues
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS: list[Platform] = [Platform.BUTTON, Platform.EVENT, Platform.NOTIFY]

type SpectronicsConfigEntry = ConfigEntry[SpectronicsDialer]


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
    dialer.async_wake()  # the simultaneous-call limit may have grown
    async_update_contact_devices(hass, entry)
    async_dispatcher_send(hass, contacts_signal(entry))


async def async_unload_entry(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> bool:
    """Unload an account's entities; its calls in flight are cancelled with it."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> None:
    """Remove the account's repair issues with it."""
    async_delete_issues(hass, entry)
