"""The one call path of an account: every action, button and notify goes through here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback

from .api import CallRequest, SpectronicsAuthError, SpectronicsClient, SpectronicsError
from .const import (
    ATTR_CIDNAME,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_CONTACT,
    ATTR_DESTINATION,
    ATTR_ERROR,
    ATTR_EXTENSION,
    ATTR_MESSAGE,
    ATTR_REVERSE,
    ATTR_SOURCE,
    ATTR_SUCCESS,
    ATTR_WAIT,
    CANCELLED_MESSAGE,
    CONF_WAIT_TIMEOUT,
    DOMAIN,
    ERROR_CANCELLED,
    ERROR_UNKNOWN,
    EVENT_CALL_RESULT,
    LOGGER,
)

if TYPE_CHECKING:
    from . import SpectronicsConfigEntry

type CallListener = Callable[[dict[str, Any], Context], None]


class SpectronicsCancelledError(SpectronicsError):
    """The account was unloaded, or Home Assistant stopped, while the call was in flight."""

    category = ERROR_CANCELLED


class SpectronicsDialer:
    """Places an account's calls: sends each once, reports each once."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SpectronicsConfigEntry,
        client: SpectronicsClient,
    ) -> None:
        """Keep the account's client; nothing is sent yet."""
        self.hass = hass
        self.entry = entry
        self.client = client
        self._listeners: list[CallListener] = []

    def __repr__(self) -> str:
        """Describe the dialer by its client, which hides the token."""
        return f"SpectronicsDialer({self.client!r})"

    @callback
    def async_add_listener(self, listener: CallListener) -> CALLBACK_TYPE:
        """Call `listener` with every call's result and context; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def async_call(
        self,
        request: CallRequest,
        *,
        contact: str | None = None,
        context: Context | None = None,
    ) -> dict[str, Any]:
        """Place one call and return its result, or raise a SpectronicsError."""
        context = context or Context()
        # The entry owns the call: unloading the entry cancels it (it still reports).
        task = self.entry.async_create_background_task(
            self.hass,
            self._async_send(request, contact, context),
            f"{DOMAIN} call",
        )
        try:
            # A caller that stops waiting does not cancel a call that may be ringing.
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            raise SpectronicsCancelledError(CANCELLED_MESSAGE) from None

    async def _async_send(
        self, request: CallRequest, contact: str | None, context: Context
    ) -> dict[str, Any]:
        """Send the call once and report it exactly once, whatever the outcome."""
        result: dict[str, Any] = {
            ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
            ATTR_CONTACT: contact,
            ATTR_EXTENSION: request.extension or self.client.extension,
            ATTR_DESTINATION: request.destination,
            ATTR_SOURCE: request.source,
            ATTR_CIDNAME: request.cidname,
            ATTR_REVERSE: request.reverse,
            ATTR_WAIT: request.wait,
        }
        wait_timeout = self.entry.options.get(CONF_WAIT_TIMEOUT)
        try:
            reply = await self.client.place_call(request, wait_timeout=wait_timeout)
        except SpectronicsError as err:
            self._async_report(result, context, err.category, str(err))
            if isinstance(err, SpectronicsAuthError):
                self.entry.async_start_reauth(self.hass)
            raise
        except asyncio.CancelledError:
            self._async_report(result, context, ERROR_CANCELLED, CANCELLED_MESSAGE)
            raise
        except Exception:
            self._async_report(result, context, ERROR_UNKNOWN, "unexpected error")
            raise
        self._async_report(result, context, None, reply.message)
        return result

    @callback
    def _async_report(
        self,
        result: dict[str, Any],
        context: Context,
        error: str | None,
        message: str,
    ) -> None:
        """Complete the result, log it, fire the event and tell the listeners."""
        result |= {
            ATTR_SUCCESS: error is None,
            ATTR_MESSAGE: message,
            ATTR_ERROR: error,
        }
        LOGGER.debug(
            "Call to %s (contact %s, wait %s): %s, %s",
            result[ATTR_DESTINATION],
            result[ATTR_CONTACT],
            result[ATTR_WAIT],
            error or "success",
            message,
        )
        self.hass.bus.async_fire(EVENT_CALL_RESULT, result, context=context)
        for listener in list(self._listeners):
            listener(result, context)
