"""Describe the call result events in the logbook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    ATTR_EXTENSION,
    ATTR_MESSAGE,
    ATTR_REVERSE,
    ATTR_RING_FIRST,
    ATTR_RINGS_FIRST,
    ATTR_SOURCE,
    ATTR_SUPPRESSED,
    CONTACT_RINGS_FIRST,
    DOMAIN,
    EVENT_ANSWERED,
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
        """Say whose phone rang first, and how the call ended."""
        return {
            LOGBOOK_ENTRY_NAME: "Spectronics VoIP",
            LOGBOOK_ENTRY_MESSAGE: describe_call(event.data),
            # The account's "Last call", which the dialer names in the event.
            LOGBOOK_ENTRY_ENTITY_ID: event.data.get(ATTR_ENTITY_ID),
        }

    async_describe_event(DOMAIN, EVENT_CALL_RESULT, async_describe_call)


def describe_call(data: Mapping[str, Any]) -> str:
    """Return the sentence of a call's result.

    "Rang Mum (07700900123): answered" when the person's own phone rang first;
    "Call from extension 1234567 to Plumber (02079460958): requested" when your
    extension rang first (its answer, not the other's, is what `wait` reports).
    """
    contact = data.get(ATTR_CONTACT)
    source, destination = data.get(ATTR_SOURCE), data[ATTR_DESTINATION]
    first_is_theirs = data.get(ATTR_RING_FIRST) in CONTACT_RINGS_FIRST or (
        data.get(ATTR_RING_FIRST) is None and (source or data.get(ATTR_REVERSE))
    )
    if first_is_theirs:
        # Events recorded before 0.2 have no rings_first: their source rang first.
        number = data.get(ATTR_RINGS_FIRST) or source or destination
        who = f"{contact} ({number})" if contact else number
        head, answered = f"Rang {who}", "answered"
    else:
        callee = f"{contact} ({destination})" if contact else destination
        extension = data.get(ATTR_EXTENSION)
        head = f"Call from extension {extension} to {callee}"
        if not extension:
            head = f"Call to {callee}"
        answered = "the extension answered"
    outcome = event_type(data)
    if outcome == EVENT_FAILED:
        return f"{head}: failed: {data[ATTR_MESSAGE]}"
    if data.get(ATTR_SUPPRESSED):
        # The cooldown held it back: "not sent: an identical call succeeded ...".
        return f"{head.removeprefix('Rang ')}: {data[ATTR_MESSAGE]}"
    return f"{head}: {answered if outcome == EVENT_ANSWERED else outcome}"
