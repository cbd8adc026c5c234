"""The place_call action: the one place that maps client errors and fires result events."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

import voluptuous as vol

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .api import (
    CallRequest,
    SpectronicsAuthError,
    SpectronicsError,
    SpectronicsValidationError,
)
from .const import (
    ATTR_CIDNAME,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
    ATTR_ERROR,
    ATTR_EXTENSION,
    ATTR_MESSAGE,
    ATTR_REVERSE,
    ATTR_SOURCE,
    ATTR_SUCCESS,
    ATTR_WAIT,
    CANCELLED_MESSAGE,
    CONF_CIDNAME,
    CONF_WAIT,
    CONF_WAIT_TIMEOUT,
    DOMAIN,
    ERROR_CANCELLED,
    ERROR_UNKNOWN,
    EVENT_CALL_RESULT,
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
        request = _build_request(entry, call.data)
        # The entry owns the call: unloading the entry cancels it (it still reports).
        task = entry.async_create_background_task(
            hass,
            _async_place_call(hass, entry, request),
            f"{DOMAIN} {SERVICE_PLACE_CALL}",
        )
        try:
            # A caller that stops waiting does not cancel a call that may be ringing.
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="call_failed_cancelled",
                translation_placeholders={"message": CANCELLED_MESSAGE},
            ) from None
        except SpectronicsError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=f"call_failed_{err.category}",
                translation_placeholders={"message": str(err)},
            ) from err
        return result if call.return_response else None

    hass.services.async_register(
        DOMAIN,
        SERVICE_PLACE_CALL,
        async_place_call,
        schema=PLACE_CALL_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


async def _async_place_call(
    hass: HomeAssistant, entry: SpectronicsConfigEntry, request: CallRequest
) -> dict[str, Any]:
    """Send the call once and fire exactly one result event, whatever the outcome."""
    result: dict[str, Any] = {
        ATTR_CONFIG_ENTRY_ID: entry.entry_id,
        ATTR_EXTENSION: request.extension,
        ATTR_DESTINATION: request.destination,
        ATTR_SOURCE: request.source,
        ATTR_CIDNAME: request.cidname,
        ATTR_REVERSE: request.reverse,
        ATTR_WAIT: request.wait,
    }
    wait_timeout = entry.options.get(CONF_WAIT_TIMEOUT)
    try:
        reply = await entry.runtime_data.place_call(request, wait_timeout=wait_timeout)
    except SpectronicsError as err:
        _async_fire_failure(hass, result, err.category, str(err))
        if isinstance(err, SpectronicsAuthError):
            entry.async_start_reauth(hass)
        raise
    except asyncio.CancelledError:
        _async_fire_failure(hass, result, ERROR_CANCELLED, CANCELLED_MESSAGE)
        raise
    except Exception:
        _async_fire_failure(hass, result, ERROR_UNKNOWN, "unexpected error")
        raise
    result |= {ATTR_SUCCESS: True, ATTR_MESSAGE: reply.message, ATTR_ERROR: None}
    hass.bus.async_fire(EVENT_CALL_RESULT, result)
    return result


@callback
def _async_fire_failure(
    hass: HomeAssistant, result: dict[str, Any], error: str, message: str
) -> None:
    """Fire the result event of a call that failed."""
    failure = {ATTR_SUCCESS: False, ATTR_MESSAGE: message, ATTR_ERROR: error}
    hass.bus.async_fire(EVENT_CALL_RESULT, result | failure)


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


def _build_request(entry: SpectronicsConfigEntry, data: dict[str, Any]) -> CallRequest:
    """Validate the call's fields, falling back to the entry's options."""
    options = entry.options
    try:
        return CallRequest(
            destination=data[ATTR_DESTINATION],
            extension=data.get(ATTR_EXTENSION) or entry.runtime_data.extension,
            cidname=data.get(ATTR_CIDNAME, options.get(CONF_CIDNAME)),
            reverse=data.get(ATTR_REVERSE, False),
            source=data.get(ATTR_SOURCE),
            wait=data.get(ATTR_WAIT, options.get(CONF_WAIT, False)),
        )
    except SpectronicsValidationError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=f"invalid_{err.field}",
        ) from err
