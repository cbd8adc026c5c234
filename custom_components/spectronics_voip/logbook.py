"""Describe the call result events in the logbook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback

from .const import (
    ATTR_CONTACT,
    ATTR_DESTINATION,
    ATTR_MESSAGE,
    ATTR_SUPPRESSED,
    DOMAIN,
    EVENT_CALL_RESULT,
    EVENT_FAILED,
)
from .event import event_type

type Describe = Callable[[Event[Any]], dict[str, str | None]]


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Describe], None],
) -> None:
    """Describe `spectronics_voip_call_result`."""

    @callback
    def async_describe_call(event: Event[Any]) -> dict[str, str | None]:
        """Say "Call to Mum (07700900123) answered", or why it failed or was not sent."""
        data = event.data
        callee = data[ATTR_DESTINATION]
        if contact := data.get(ATTR_CONTACT):
            callee = f"{contact} ({callee})"
        outcome = event_type(data)
        if outcome == EVENT_FAILED:
            outcome = f"failed: {data[ATTR_MESSAGE]}"
        elif data.get(ATTR_SUPPRESSED):
            # The cooldown held it back: "not sent: an identical call succeeded ...".
            outcome = data[ATTR_MESSAGE]
        return {
            LOGBOOK_ENTRY_NAME: "Spectronics VoIP",
            LOGBOOK_ENTRY_MESSAGE: f"Call to {callee} {outcome}",
            # The account's "Last call", which the dialer names in the event.
            LOGBOOK_ENTRY_ENTITY_ID: data.get(ATTR_ENTITY_ID),
        }

    async_describe_event(DOMAIN, EVENT_CALL_RESULT, async_describe_call)
