"""The actions, and the one place that maps client errors to Home Assistant errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import voluptuous as vol

from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import (
    Context,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .api import CallRequest, SpectronicsError, SpectronicsValidationError
from .const import (
    ATTR_CIDNAME,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
    ATTR_EXTENSION,
    ATTR_REVERSE,
    ATTR_SOURCE,
    ATTR_WAIT,
    CONF_CIDNAME,
    CONF_DESTINATION,
    CONF_EXTENSION,
    CONF_REVERSE,
    CONF_SOURCE,
    CONF_WAIT,
    DOMAIN,
    SERVICE_PLACE_CALL,
)

if TYPE_CHECKING:
    from . import SpectronicsConfigEntry

PLACE_CALL_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_DESTINATION): cv.string,
        vol.Optional(ATTR_EXTENSION): cv.string,
        vol.Optional(ATTR_CIDNAME): cv.string,
        vol.Optional(ATTR_REVERSE): cv.boolean,
        vol.Optional(ATTR_SOURCE): cv.string,
        vol.Optional(ATTR_WAIT): cv.boolean,
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def async_place_call(call: ServiceCall) -> ServiceResponse:
        """Place one call and report its result as an event and response data."""
        entry = _async_get_entry(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
        request = build_request(entry, call.data)
        result = await async_dial(entry, request, context=call.context)
        return result if call.return_response else None

    hass.services.async_register(
        DOMAIN,
        SERVICE_PLACE_CALL,
        async_place_call,
        schema=PLACE_CALL_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


async def async_dial(
    entry: SpectronicsConfigEntry,
    request: CallRequest,
    *,
    contact: str | None = None,
    context: Context | None = None,
) -> dict[str, Any]:
    """Place a call through the account's dialer; raise a translated error on failure."""
    try:
        return await entry.runtime_data.async_call(
            request, contact=contact, context=context
        )
    except SpectronicsError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=f"call_failed_{err.category}",
            translation_placeholders={"message": str(err)},
        ) from err


def build_request(
    entry: SpectronicsConfigEntry, data: Mapping[str, Any]
) -> CallRequest:
    """Validate a call's fields, falling back to the account's options."""
    options = entry.options
    try:
        return CallRequest(
            destination=data[CONF_DESTINATION],
            extension=data.get(CONF_EXTENSION) or entry.runtime_data.client.extension,
            cidname=data.get(CONF_CIDNAME, options.get(CONF_CIDNAME)),
            reverse=data.get(CONF_REVERSE, False),
            source=data.get(CONF_SOURCE),
            wait=data.get(CONF_WAIT, options.get(CONF_WAIT, False)),
        )
    except SpectronicsValidationError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=f"invalid_{err.field}",
        ) from err


def contact_request(
    entry: SpectronicsConfigEntry,
    subentry: ConfigSubentry,
    cidname: str | None = None,
) -> CallRequest:
    """Return a contact's call, with `cidname` instead of its own when one is given."""
    data = dict(subentry.data)
    if cidname:
        data[CONF_CIDNAME] = cidname
    return build_request(entry, data)


def _async_get_entry(
    hass: HomeAssistant, entry_id: str | None
) -> SpectronicsConfigEntry:
    """Return the loaded entry the call names, or the only loaded one."""
    if entry_id is None:
        loaded = hass.config_entries.async_loaded_entries(DOMAIN)
        if len(loaded) != 1:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entry_required",
                translation_placeholders={"count": str(len(loaded))},
            )
        return cast("SpectronicsConfigEntry", loaded[0])
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return cast("SpectronicsConfigEntry", entry)
