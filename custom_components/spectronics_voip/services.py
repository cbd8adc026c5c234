"""The actions: their schemas, and handlers that hand each call to the dialer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, cast

import voluptuous as vol

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv, entity_registry as er

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    CONF_ADMIN_ONLY,
    CONF_CIDNAME,
    CONF_CONNECT_TO,
    CONF_CONTACTS,
    CONF_DELAY,
    CONF_DESTINATION,
    CONF_DESTINATIONS,
    CONF_EXTENSION,
    CONF_REVERSE,
    CONF_ROUNDS,
    CONF_SOURCE,
    CONF_WAIT,
    CONTACT_RINGS_FIRST,
    DEFAULT_ADMIN_ONLY,
    DOMAIN,
    MAX_DELAY,
    MAX_ROUNDS,
    SERVICE_CALL_UNTIL_ANSWERED,
    SERVICE_PLACE_CALL,
    SERVICE_STOP_CALLS,
)
from .dialer import Attempt, Contact, SpectronicsConfigEntry, ring_first

PLACE_CALL_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(CONF_DESTINATION): cv.string,
        vol.Optional(CONF_EXTENSION): cv.string,
        vol.Optional(CONF_CIDNAME): cv.string,
        vol.Optional(CONF_REVERSE): cv.boolean,
        vol.Optional(CONF_SOURCE): cv.string,
        vol.Optional(CONF_WAIT): cv.boolean,
    }
)
CALL_UNTIL_ANSWERED_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(CONF_CONTACTS): cv.entity_ids,
        vol.Optional(CONF_DESTINATIONS): vol.All(
            cv.ensure_list, [vol.All(cv.string, vol.Length(min=1))]
        ),
        vol.Optional(CONF_CONNECT_TO): cv.string,
        vol.Optional(CONF_EXTENSION): cv.string,
        vol.Optional(CONF_CIDNAME): cv.string,
        vol.Optional(CONF_ROUNDS, default=1): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_ROUNDS)
        ),
        vol.Optional(CONF_DELAY, default=0): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=MAX_DELAY)
        ),
    }
)
STOP_CALLS_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})
# Fields of call_until_answered that only destinations use: a contact has its own.
DESTINATION_ONLY_FIELDS = (CONF_CONNECT_TO, CONF_EXTENSION)
# A malformed field of a destination's call, by the name call_until_answered gives it:
# each number is sent as the source, connect_to as the destination.
DESTINATION_FIELD_KEYS = {
    "invalid_source": "invalid_destinations",
    "invalid_destination": "invalid_connect_to",
    "invalid_extension": "invalid_extension",
    "invalid_cidname": "invalid_cidname",
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def async_place_call(call: ServiceCall) -> ServiceResponse:
        """Place one call and report its result as an event and response data."""
        entry = _async_get_entry(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
        await _async_check_user(hass, entry, call)
        dialer = entry.runtime_data
        result = await dialer.async_call(
            dialer.request(call.data), context=call.context
        )
        return result.as_dict() if call.return_response else None

    async def async_call_until_answered(call: ServiceCall) -> ServiceResponse:
        """Ring the attempts one after another, waiting for each, until one answers."""
        entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
        contacts = _contacts_of(hass, call.data.get(CONF_CONTACTS, []))
        if entry_id is None and contacts:
            entry_id = _the_one_entry_id(contacts)
        entry = _async_get_entry(hass, entry_id)
        await _async_check_user(hass, entry, call)
        escalation = await entry.runtime_data.async_escalate(
            _attempts(entry, contacts, call.data),
            rounds=call.data[CONF_ROUNDS],
            delay=call.data[CONF_DELAY],
            context=call.context,
        )
        return escalation.as_dict() if call.return_response else None

    async def async_stop_calls(call: ServiceCall) -> ServiceResponse:
        """End every running escalation and drop the calls waiting for a line.

        Open to every user, whatever admin_only says: stopping is always safe.
        """
        entries: list[SpectronicsConfigEntry] = cast(
            "list[SpectronicsConfigEntry]",
            hass.config_entries.async_loaded_entries(DOMAIN),
        )
        if (entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID)) is not None:
            entries = [_async_get_entry(hass, entry_id)]
        escalations = calls = 0
        for entry in entries:
            stopped = entry.runtime_data.async_stop()
            escalations += stopped[0]
            calls += stopped[1]
        if not call.return_response:
            return None
        return {"escalations": escalations, "calls": calls}

    hass.services.async_register(
        DOMAIN,
        SERVICE_STOP_CALLS,
        async_stop_calls,
        schema=STOP_CALLS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_PLACE_CALL,
        async_place_call,
        schema=PLACE_CALL_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_CALL_UNTIL_ANSWERED,
        async_call_until_answered,
        schema=CALL_UNTIL_ANSWERED_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


async def _async_check_user(
    hass: HomeAssistant, entry: SpectronicsConfigEntry, call: ServiceCall
) -> None:
    """Refuse a non-administrator user while the account is administrator-only."""
    user_id = call.context.user_id
    if user_id is None or not entry.options.get(CONF_ADMIN_ONLY, DEFAULT_ADMIN_ONLY):
        return  # an automation, a script, or an account open to every user
    user = await hass.auth.async_get_user(user_id)
    if user is None:
        raise UnknownUser(context=call.context, permission=POLICY_CONTROL)
    if not user.is_admin:
        raise Unauthorized(
            context=call.context,
            config_entry_id=entry.entry_id,
            permission=POLICY_CONTROL,
        )


def _contacts_of(hass: HomeAssistant, entity_ids: list[str]) -> list[er.RegistryEntry]:
    """Return the registry entries of contacts' Call buttons, or raise for others."""
    registry = er.async_get(hass)
    contacts = []
    for entity_id in entity_ids:
        entity = registry.async_get(entity_id)
        if (
            entity is None
            or entity.platform != DOMAIN
            or entity.domain != Platform.BUTTON
            or entity.config_subentry_id is None
        ):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_contact",
                translation_placeholders={"entity_id": entity_id},
            )
        contacts.append(entity)
    return contacts


def _the_one_entry_id(contacts: list[er.RegistryEntry]) -> str | None:
    """Return the account of the contacts when they all belong to one."""
    entry_ids = {contact.config_entry_id for contact in contacts}
    return entry_ids.pop() if len(entry_ids) == 1 else None


def _attempts(
    entry: SpectronicsConfigEntry,
    contacts: list[er.RegistryEntry],
    data: Mapping[str, Any],
) -> list[Attempt]:
    """Validate every attempt of an escalation before the first is rung.

    Each attempt rings a person's own phone first: a contact's number or extension,
    or a number given as a destination (sent as the source).
    """
    destinations: list[str] = data.get(CONF_DESTINATIONS, [])
    if bool(contacts) == bool(destinations):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="attempts_both" if contacts else "attempts_none",
        )
    dialer = entry.runtime_data
    cidname = data.get(CONF_CIDNAME)
    attempts: list[Attempt] = []
    if contacts:
        if fields := [field for field in DESTINATION_ONLY_FIELDS if field in data]:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="contact_fields",
                translation_placeholders={"fields": ", ".join(fields)},
            )
        for contact in contacts:
            subentry = entry.subentries.get(contact.config_subentry_id or "")
            if contact.config_entry_id != entry.entry_id or subentry is None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="contact_of_another_account",
                    translation_placeholders={
                        "entity_id": contact.entity_id,
                        "title": entry.title,
                    },
                )
            if ring_first(subentry) not in CONTACT_RINGS_FIRST:
                # Its call rings your extension first: the answer would be yours.
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="contact_rings_your_extension",
                    translation_placeholders={"name": subentry.title},
                )
            request = dialer.contact_request(subentry, cidname)
            attempts.append(
                (
                    replace(request, wait=True),
                    Contact.of(subentry, contact.device_id),
                )
            )
    else:
        extension = data.get(CONF_EXTENSION)
        for destination in destinations:
            # Each number rings first (as the source), then connects on.
            call = {
                CONF_SOURCE: destination,
                CONF_DESTINATION: dialer.connect_to(data, extension),
                CONF_EXTENSION: extension,
                CONF_WAIT: True,
            }
            if cidname is not None:
                call[CONF_CIDNAME] = cidname
            try:
                attempts.append((dialer.request(call), None))
            except ServiceValidationError as err:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key=DESTINATION_FIELD_KEYS[str(err.translation_key)],
                ) from err.__cause__
    for request, _ in attempts:
        dialer.check_allowed(request)
    return attempts


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
