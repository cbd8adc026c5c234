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
    CONTACT_RINGS_FIRST,
    DOMAIN,
    EVENT_ANSWERED,
    EVENT_CALL_RESULT,
    EVENT_FAILED,
)
from .dialer import CallResult

type Describe = Callable[[Event[Any]], dict[str, str | None]]


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Describe], None],
) -> None:
    """Describe `spectronics_voip_call_result`."""

    @callback
    def async_describe_call(event: Event[Any]) -> dict[str, str | None]:
        """Say whose phone rang first, and how the call ended."""
        return {
            LOGBOOK_ENTRY_NAME: "Spectronics VoIP",
            LOGBOOK_ENTRY_MESSAGE: describe_call(CallResult.from_dict(event.data)),
            # The account's "Last call", which the dialer names in the event.
            LOGBOOK_ENTRY_ENTITY_ID: event.data.get(ATTR_ENTITY_ID),
        }

    async_describe_event(DOMAIN, EVENT_CALL_RESULT, async_describe_call)


def describe_call(call: CallResult) -> str:
    """Return the sentence of a call's result.

    "Rang Mum (07700900123): answered" when the person's own phone rang first;
    "Call from extension 1234567 to Plumber (02079460958): requested" when your
    extension rang first (its answer, not the other's, is what `wait` reports).
    """
    if call.ring_first in CONTACT_RINGS_FIRST or (
        call.ring_first is None and (call.source or call.reverse)
    ):
        who = f"{call.contact} ({call.rings_first})" if call.contact else None
        head, answered = f"Rang {who or call.rings_first}", "answered"
    else:
        callee = call.destination
        if call.contact:
            callee = f"{call.contact} ({callee})"
        head = f"Call to {callee}"  # recorded by 0.1 with no extension
        if call.extension:
            head = f"Call from extension {call.extension} to {callee}"
        answered = "the extension answered"
    outcome = call.event_type
    if outcome == EVENT_FAILED:
        return f"{head}: failed: {call.message}"
    if call.suppressed:
        # The cooldown held it back: "not sent: an identical call succeeded ...".
        return f"{head.removeprefix('Rang ')}: {call.message}"
    return f"{head}: {answered if outcome == EVENT_ANSWERED else outcome}"
