"""The actions, and the one place that maps client errors to Home Assistant errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn, cast

import voluptuous as vol

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.const import Platform
from homeassistant.core import (
    Context,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
    UnknownUser,
)
from homeassistant.helpers import config_validation as cv, entity_registry as er

from .api import (
    CallRequest,
    SpectronicsAuthError,
    SpectronicsError,
    SpectronicsValidationError,
)
from .const import (
    ATTR_ANSWERED_BY,
    ATTR_ATTEMPTS,
    ATTR_CIDNAME,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
    ATTR_EXTENSION,
    ATTR_REVERSE,
    ATTR_SOURCE,
    ATTR_SUCCESS,
    ATTR_WAIT,
    CANCELLED_MESSAGE,
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
    INVALID_FIELD_KEYS,
    MAX_DELAY,
    MAX_ROUNDS,
    RING_CONTACT_EXTENSION,
    RING_CONTACT_NUMBER,
    SERVICE_CALL_UNTIL_ANSWERED,
    SERVICE_PLACE_CALL,
)
from .dialer import (
    CallOutcome,
    Contact,
    SpectronicsCancelledError,
    SpectronicsNotAllowedError,
    ring_first,
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


CALL_UNTIL_ANSWERED_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(CONF_CONTACTS): cv.entity_ids,
        vol.Optional(CONF_DESTINATIONS): vol.All(
            cv.ensure_list, [vol.All(cv.string, vol.Length(min=1))]
        ),
        vol.Optional(CONF_CONNECT_TO): cv.string,
        vol.Optional(ATTR_EXTENSION): cv.string,
        vol.Optional(ATTR_CIDNAME): cv.string,
        vol.Optional(CONF_ROUNDS, default=1): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_ROUNDS)
        ),
        vol.Optional(CONF_DELAY, default=0): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=MAX_DELAY)
        ),
    }
)
# Fields of call_until_answered that only destinations use: a contact has its own.
DESTINATION_ONLY_FIELDS = (CONF_CONNECT_TO, ATTR_EXTENSION)
# The translation key of a failed call, by its error's category.
CALL_FAILED_KEYS = {
    "auth": "call_failed_auth",
    "api": "call_failed_api",
    "connection": "call_failed_connection",
    "timeout": "call_failed_timeout",
    "invalid_response": "call_failed_invalid_response",
    "cancelled": "call_failed_cancelled",
    "validation": "call_failed_validation",
    "unknown": "call_failed_unknown",
}

type Attempt = tuple[CallRequest, Contact | None]


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def async_place_call(call: ServiceCall) -> ServiceResponse:
        """Place one call and report its result as an event and response data."""
        entry = _async_get_entry(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
        await _async_check_user(hass, entry, call)
        request = build_request(entry, call.data)
        result = await async_dial(entry, request, context=call.context)
        return result if call.return_response else None

    async def async_call_until_answered(call: ServiceCall) -> ServiceResponse:
        """Ring the attempts one after another, waiting for each, until one answers."""
        entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
        contacts = _contacts_of(hass, call.data.get(CONF_CONTACTS, []))
        if entry_id is None and contacts:
            entry_id = _the_one_entry_id(contacts)
        entry = _async_get_entry(hass, entry_id)
        await _async_check_user(hass, entry, call)
        attempts = _build_attempts(entry, contacts, call.data)
        stop = asyncio.Event()
        # The entry owns the escalation, so that unloading the entry ends it.
        task = entry.async_create_background_task(
            hass,
            _async_escalate(entry, attempts, call, stop),
            f"{DOMAIN} {SERVICE_CALL_UNTIL_ANSWERED}",
        )
        try:
            response = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                _raise_failure(SpectronicsCancelledError(CANCELLED_MESSAGE))
            # The caller stopped: no attempt starts after the one in flight.
            stop.set()
            task.add_done_callback(_discard_outcome)
            raise
        return response if call.return_response else None

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


async def async_dial(
    entry: SpectronicsConfigEntry,
    request: CallRequest,
    *,
    contact: Contact | None = None,
    context: Context | None = None,
) -> dict[str, Any]:
    """Place a call through the account's dialer; raise a translated error on failure."""
    outcome = await _async_call(entry, request, contact, context)
    if outcome.error is not None:
        _raise_failure(outcome.error)
    return outcome.result


async def _async_call(
    entry: SpectronicsConfigEntry,
    request: CallRequest,
    contact: Contact | None,
    context: Context | None,
) -> CallOutcome:
    """Hand a call to the account's dialer; a refused number is a validation error."""
    try:
        return await entry.runtime_data.async_call(
            request, contact=contact, context=context
        )
    except SpectronicsNotAllowedError as err:
        _raise_not_allowed(err)


def _raise_failure(err: SpectronicsError) -> NoReturn:
    """Raise the translated error of a failed call."""
    raise HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=CALL_FAILED_KEYS[err.category],
        translation_placeholders={"message": str(err)},
    ) from err


def _raise_not_allowed(err: SpectronicsNotAllowedError) -> NoReturn:
    """Raise the translated error of a number the account does not allow."""
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="number_not_allowed",
        translation_placeholders={"field": err.field, "number": err.number},
    ) from err


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


async def _async_escalate(
    entry: SpectronicsConfigEntry,
    attempts: list[Attempt],
    call: ServiceCall,
    stop: asyncio.Event,
) -> dict[str, Any]:
    """Ring each attempt in turn, every round, until one succeeds or `stop` is set."""
    delay: float = call.data[CONF_DELAY]
    results: list[dict[str, Any]] = []
    for request, contact in attempts * call.data[CONF_ROUNDS]:
        if results and delay:
            with suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await stop.wait()
        if stop.is_set():
            break
        outcome = await _async_call(entry, request, contact, call.context)
        results.append(outcome.result)
        if isinstance(outcome.error, (SpectronicsAuthError, SpectronicsCancelledError)):
            _raise_failure(outcome.error)  # no further attempt could succeed
        if outcome.error is None:
            return {
                ATTR_SUCCESS: True,
                # Whose phone answered: the contact's, or the number rung first.
                ATTR_ANSWERED_BY: contact.name if contact else request.source,
                ATTR_ATTEMPTS: results,
            }
    return {ATTR_SUCCESS: False, ATTR_ANSWERED_BY: None, ATTR_ATTEMPTS: results}


def _discard_outcome(task: asyncio.Task[dict[str, Any]]) -> None:
    """Retrieve the outcome of an escalation whose caller left; it was reported."""
    with suppress(asyncio.CancelledError):  # an unload cancelled it
        task.exception()


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


def _build_attempts(
    entry: SpectronicsConfigEntry,
    contacts: list[er.RegistryEntry],
    data: Mapping[str, Any],
) -> list[Attempt]:
    """Validate every attempt of an escalation before the first is rung."""
    destinations: list[str] = data.get(CONF_DESTINATIONS, [])
    if bool(contacts) == bool(destinations):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="attempts_both" if contacts else "attempts_none",
        )
    attempts: list[Attempt] = []
    cidname = data.get(ATTR_CIDNAME)
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
            request = contact_request(entry, subentry, cidname)
            attempts.append(
                (
                    replace(request, wait=True),
                    Contact(subentry.title, contact.device_id, ring_first(subentry)),
                )
            )
    else:
        extension = data.get(ATTR_EXTENSION)
        for destination in destinations:
            # Each number rings first (as the source), then connects on.
            attempt = {
                CONF_SOURCE: destination,
                CONF_DESTINATION: _connect_to(entry, data, extension),
                CONF_EXTENSION: extension,
                CONF_WAIT: True,
            }
            if cidname is not None:
                attempt[CONF_CIDNAME] = cidname
            attempts.append((build_request(entry, attempt), None))
    for request, _ in attempts:
        try:
            entry.runtime_data.check_allowed(request)
        except SpectronicsNotAllowedError as err:
            _raise_not_allowed(err)
    return attempts


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
            translation_key=INVALID_FIELD_KEYS[err.field],
        ) from err


def _connect_to(
    entry: SpectronicsConfigEntry,
    data: Mapping[str, Any],
    extension: str | None = None,
) -> str:
    """Return what the phone rung first is connected to once it answers.

    The call's (or contact's) own connect_to, else the account's option, else the
    extension the call is placed from.
    """
    return str(
        data.get(CONF_CONNECT_TO)
        or entry.options.get(CONF_CONNECT_TO)
        or extension
        or entry.runtime_data.client.extension
    )


def contact_request(
    entry: SpectronicsConfigEntry,
    subentry: ConfigSubentry,
    cidname: str | None = None,
) -> CallRequest:
    """Return a contact's call, with `cidname` instead of its own when one is given.

    my_extension: your extension rings first, then the contact's number (quick dial).
    contact_number: the contact's number rings first (as the source), then
    connect_to. contact_extension: the contact's extension rings first, then
    connect_to.
    """
    data = subentry.data
    number = data[CONF_DESTINATION]
    call: dict[str, Any] = {
        CONF_CIDNAME: cidname or data.get(CONF_CIDNAME),
        CONF_WAIT: data.get(CONF_WAIT, False),
    }
    kind = ring_first(subentry)
    if kind == RING_CONTACT_NUMBER:
        call |= {CONF_SOURCE: number, CONF_DESTINATION: _connect_to(entry, data)}
    elif kind == RING_CONTACT_EXTENSION:
        call |= {CONF_EXTENSION: number, CONF_DESTINATION: _connect_to(entry, data)}
    else:
        call |= {CONF_DESTINATION: number, CONF_EXTENSION: data.get(CONF_EXTENSION)}
    if not call[CONF_CIDNAME]:
        del call[CONF_CIDNAME]  # the account's default applies
    return build_request(entry, call)


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
