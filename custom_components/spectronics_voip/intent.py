"""The "call a contact" intent: voice assistants and LLM agents ring a contact."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

import voluptuous as vol

from homeassistant.components.homeassistant.exposed_entities import async_should_expose
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, entity_registry as er, intent

from .const import CONTACT_RINGS_FIRST, DOMAIN
from .dialer import SpectronicsConfigEntry

INTENT_CALL_CONTACT: Final = "SpectronicsCallContact"
# The assistant an intent is checked against when it names none (Assist).
DEFAULT_ASSISTANT: Final = "conversation"


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the integration's intent; the intent integration calls this."""
    intent.async_register(hass, CallContactIntentHandler(hass))


def exposed_contacts(
    hass: HomeAssistant, assistant: str | None
) -> Iterator[tuple[str, SpectronicsConfigEntry, str, er.RegistryEntry]]:
    """Yield each contact a voice assistant may ring: (name, account, subentry, button).

    A contact may be rung by voice only while its Call button is exposed to the
    assistant (Settings → Voice assistants → Expose): the household's choice.
    """
    registry = er.async_get(hass)
    entry: SpectronicsConfigEntry
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        for button in er.async_entries_for_config_entry(registry, entry.entry_id):
            if (
                button.domain == Platform.BUTTON
                and not button.disabled_by
                and (subentry_id := button.config_subentry_id) in entry.subentries
                and subentry_id is not None
                and async_should_expose(
                    hass, assistant or DEFAULT_ASSISTANT, button.entity_id
                )
            ):
                yield entry.subentries[subentry_id].title, entry, subentry_id, button


def call_description(names: Iterable[str]) -> str:
    """Describe the call to a model: it rings a real phone, and whom it may ring."""
    return (
        "Rings a real phone: places a call to one of the household's contacts "
        "through Spectronics VoIP. Each call costs money, so call only when asked "
        "to. The contacts: " + ", ".join(sorted(set(names))) + "."
    )


class CallContactIntentHandler(intent.IntentHandler):
    """Places one contact's call, through its account's dialer and every rail."""

    intent_type = INTENT_CALL_CONTACT
    slot_schema = {vol.Required("name"): cv.string}
    platforms = {Platform.BUTTON}

    def __init__(self, hass: HomeAssistant) -> None:
        """Keep Home Assistant, for the contact names in the description."""
        self.hass = hass

    @property
    def description(self) -> str:  # type: ignore[override]
        """Tell an LLM agent what the intent does (Home Assistant 2025.x's tool)."""
        return call_description(
            name for name, *_ in exposed_contacts(self.hass, DEFAULT_ASSISTANT)
        )

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Ring the contact with this name, case and surrounding spaces aside."""
        slots = self.async_validate_slots(intent_obj.slots)
        name = " ".join(slots["name"]["value"].split())
        matches = [
            match
            for match in exposed_contacts(intent_obj.hass, intent_obj.assistant)
            if match[0].casefold() == name.casefold()
        ]
        if not matches:
            raise intent.IntentHandleError(f"There is no contact called {name}")
        if len(matches) > 1:
            raise intent.IntentHandleError(f"More than one contact is called {name}")
        [(title, entry, subentry_id, button)] = matches
        subentry = entry.subentries[subentry_id]
        try:
            result = await entry.runtime_data.async_call_contact(
                subentry, button.device_id, context=intent_obj.context
            )
        except HomeAssistantError as err:
            # Refused (allowed numbers, budget, Stop) or failed: say why.
            raise intent.IntentHandleError(str(err)) from err
        response = intent_obj.create_response()
        if result.suppressed:
            speech = f"{title} was called moments ago; not calling again"
        elif result.ring_first in CONTACT_RINGS_FIRST:
            speech = f"Ringing {title}'s phone"
        else:
            speech = f"Calling {title}"
        response.async_set_speech(speech)
        return response
