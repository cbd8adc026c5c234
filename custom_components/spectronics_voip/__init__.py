"""Place phone calls through Spectronics VoIP."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_TOKEN, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .api import (
    SpectronicsAuthError,
    SpectronicsClient,
    SpectronicsError,
    SpectronicsExtensionError,
)
from .const import CONF_EXTENSION, DOMAIN
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

type SpectronicsConfigEntry = ConfigEntry[SpectronicsClient]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, whether or not an account is set up."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: SpectronicsConfigEntry) -> bool:
    """Check the account once, without a destination, and keep its client."""
    client = SpectronicsClient(
        async_get_clientsession(hass),
        entry.data[CONF_API_TOKEN],
        entry.data[CONF_EXTENSION],
        entry.data[CONF_URL],
    )
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
    entry.runtime_data = client
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> bool:
    """Unload an account; it holds no connections or listeners of its own."""
    return True
