"""Diagnostics for Spectronics VoIP, with the token and phone numbers redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import (
    CONF_ALLOWED_NUMBERS,
    CONF_CIDNAME,
    CONF_CONNECT_TO,
    CONF_DESTINATION,
    CONF_EXTENSION,
    CONF_SOURCE,
)
from .dialer import SpectronicsConfigEntry

TO_REDACT = {
    CONF_API_TOKEN,
    CONF_EXTENSION,
    CONF_CIDNAME,
    CONF_CONNECT_TO,
    CONF_ALLOWED_NUMBERS,
    "unique_id",
    "title",
}
CONTACT_TO_REDACT = {CONF_DESTINATION, CONF_SOURCE, *TO_REDACT}
CALL_TO_REDACT = {
    "contact",
    "rings_first",
    CONF_DESTINATION,
    CONF_SOURCE,
    *TO_REDACT,
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> dict[str, Any]:
    """Return the entry, its contacts, its recent calls, without secrets or numbers."""
    dialer = entry.runtime_data
    client = dialer.client
    entry_dict = entry.as_dict()
    contacts = entry_dict.pop("subentries", [])
    return {
        "entry": async_redact_data(entry_dict, TO_REDACT),
        "contacts": [
            async_redact_data(contact, CONTACT_TO_REDACT) for contact in contacts
        ],
        "client": {
            "url": client.url,
            "request_timeout": client.request_timeout,
            "wait_timeout": client.wait_timeout,
        },
        "calls": {
            "counts": dict(dialer.counts),
            "sent": dict(
                zip(
                    ("last_hour", "today"),
                    dialer.budget.counts(dt_util.utcnow()),
                    strict=True,
                )
            ),
            "budget": dict(
                zip(("per_hour", "per_day"), dialer.budget.limits, strict=True)
            ),
            "lines": {"active": dialer.lines.active, "queued": dialer.lines.queued},
            "recent": [
                async_redact_data(call.as_dict(), CALL_TO_REDACT)
                for call in dialer.recent
            ],
        },
    }
