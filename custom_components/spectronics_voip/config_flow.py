"""Config flow for Spectronics VoIP: account, re-authentication, reconfiguration, options."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import voluptuous as vol
from yarl import URL

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_API_TOKEN, CONF_NAME, CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .api import (
    DEFAULT_URL,
    EXTENSION_PATTERN,
    WAIT_TIMEOUT,
    SpectronicsAuthError,
    SpectronicsClient,
    SpectronicsError,
    SpectronicsExtensionError,
    SpectronicsResponseError,
    SpectronicsValidationError,
    normalize_number,
    validate_cidname,
    validate_extension,
)
from .const import (
    CONF_ADMIN_ONLY,
    CONF_ALLOWED_NUMBERS,
    CONF_CIDNAME,
    CONF_CONNECT_TO,
    CONF_COOLDOWN,
    CONF_DESTINATION,
    CONF_EXTENSION,
    CONF_MAX_CALLS_PER_DAY,
    CONF_MAX_CALLS_PER_HOUR,
    CONF_MAX_CONCURRENT_CALLS,
    CONF_RING_FIRST,
    CONF_WAIT,
    CONF_WAIT_TIMEOUT,
    DEFAULT_ADMIN_ONLY,
    DEFAULT_COOLDOWN,
    DEFAULT_MAX_CALLS_PER_DAY,
    DEFAULT_MAX_CALLS_PER_HOUR,
    DEFAULT_MAX_CONCURRENT_CALLS,
    DOMAIN,
    LOGGER,
    MAX_CALL_BUDGET,
    MAX_CONCURRENT_CALLS,
    MAX_COOLDOWN,
    MAX_WAIT_TIMEOUT,
    MIN_WAIT_TIMEOUT,
    RING_CONTACT_EXTENSION,
    RING_CONTACT_NUMBER,
    RING_FIRST_OPTIONS,
    RING_MY_EXTENSION,
    SUBENTRY_CONTACT,
)
from .dialer import SpectronicsConfigEntry, ring_first

TOKEN_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
)
TOKEN_FIELD: dict[vol.Marker, Any] = {vol.Required(CONF_API_TOKEN): TOKEN_SELECTOR}
EXTENSION_AND_URL_FIELDS: dict[vol.Marker, Any] = {
    vol.Required(CONF_EXTENSION): TextSelector(),
    vol.Required(CONF_URL, default=DEFAULT_URL): TextSelector(
        TextSelectorConfig(type=TextSelectorType.URL)
    ),
}
ACCOUNT_SCHEMA = vol.Schema({**TOKEN_FIELD, **EXTENSION_AND_URL_FIELDS})
# Reconfigure never shows the stored token: an empty field keeps it.
RECONFIGURE_SCHEMA = vol.Schema(
    {vol.Optional(CONF_API_TOKEN): TOKEN_SELECTOR, **EXTENSION_AND_URL_FIELDS}
)
TOKEN_SCHEMA = vol.Schema(TOKEN_FIELD)
TEL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.TEL))
OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_CIDNAME): TextSelector(),
        vol.Optional(CONF_CONNECT_TO): TEL_SELECTOR,
        vol.Required(CONF_WAIT, default=False): BooleanSelector(),
        vol.Required(CONF_WAIT_TIMEOUT, default=WAIT_TIMEOUT): NumberSelector(
            NumberSelectorConfig(
                min=MIN_WAIT_TIMEOUT,
                max=MAX_WAIT_TIMEOUT,
                step=1,
                unit_of_measurement="s",
                mode=NumberSelectorMode.BOX,
            )
        ),
        vol.Required(CONF_COOLDOWN, default=DEFAULT_COOLDOWN): NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=MAX_COOLDOWN,
                step=1,
                unit_of_measurement="s",
                mode=NumberSelectorMode.BOX,
            )
        ),
        vol.Required(
            CONF_MAX_CONCURRENT_CALLS, default=DEFAULT_MAX_CONCURRENT_CALLS
        ): NumberSelector(
            NumberSelectorConfig(
                min=1, max=MAX_CONCURRENT_CALLS, step=1, mode=NumberSelectorMode.BOX
            )
        ),
        vol.Required(
            CONF_MAX_CALLS_PER_HOUR, default=DEFAULT_MAX_CALLS_PER_HOUR
        ): NumberSelector(
            NumberSelectorConfig(
                min=0, max=MAX_CALL_BUDGET, step=1, mode=NumberSelectorMode.BOX
            )
        ),
        vol.Required(
            CONF_MAX_CALLS_PER_DAY, default=DEFAULT_MAX_CALLS_PER_DAY
        ): NumberSelector(
            NumberSelectorConfig(
                min=0, max=MAX_CALL_BUDGET, step=1, mode=NumberSelectorMode.BOX
            )
        ),
        vol.Optional(CONF_ALLOWED_NUMBERS): TextSelector(
            TextSelectorConfig(multiple=True)
        ),
        vol.Required(CONF_ADMIN_ONLY, default=DEFAULT_ADMIN_ONLY): BooleanSelector(),
    }
)
INTEGER_OPTIONS = (
    CONF_WAIT_TIMEOUT,
    CONF_COOLDOWN,
    CONF_MAX_CONCURRENT_CALLS,
    CONF_MAX_CALLS_PER_HOUR,
    CONF_MAX_CALLS_PER_DAY,
)

# A contact's first step: its name, and which phone its call rings first.
CONTACT_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Required(CONF_RING_FIRST, default=RING_MY_EXTENSION): SelectSelector(
            SelectSelectorConfig(
                options=list(RING_FIRST_OPTIONS),
                translation_key=CONF_RING_FIRST,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
)
# Its second step: only the fields that do something for that kind of contact.
_CALL_FIELDS: dict[vol.Marker, Any] = {
    vol.Optional(CONF_CIDNAME): TextSelector(),
    vol.Required(CONF_WAIT, default=False): BooleanSelector(),
}
CONTACT_KIND_SCHEMAS: dict[str, vol.Schema] = {
    RING_MY_EXTENSION: vol.Schema(
        {
            vol.Required(CONF_DESTINATION): TEL_SELECTOR,
            **_CALL_FIELDS,
            vol.Optional(CONF_EXTENSION): TextSelector(),
        }
    ),
    RING_CONTACT_NUMBER: vol.Schema(
        {
            vol.Required(CONF_DESTINATION): TEL_SELECTOR,
            vol.Optional(CONF_CONNECT_TO): TEL_SELECTOR,
            **_CALL_FIELDS,
        }
    ),
    RING_CONTACT_EXTENSION: vol.Schema(
        {
            vol.Required(CONF_DESTINATION): TextSelector(),
            vol.Optional(CONF_CONNECT_TO): TEL_SELECTOR,
            **_CALL_FIELDS,
        }
    ),
}
# The step that asks for each kind's fields (and the title and help it shows).
KIND_STEPS: dict[str, str] = {
    RING_MY_EXTENSION: "my_extension",
    RING_CONTACT_NUMBER: "contact_number",
    RING_CONTACT_EXTENSION: "contact_extension",
}
# The client's own validators: a contact is checked exactly as a call is. The
# number of a contact_extension contact is an extension.
CONTACT_VALIDATORS: dict[str, Callable[[str], str]] = {
    CONF_DESTINATION: partial(normalize_number, CONF_DESTINATION),
    CONF_CONNECT_TO: partial(normalize_number, CONF_CONNECT_TO),
    CONF_EXTENSION: validate_extension,
    CONF_CIDNAME: validate_cidname,
}
CONTACT_ERRORS: dict[str, str] = {
    CONF_DESTINATION: "invalid_destination",
    CONF_CONNECT_TO: "invalid_connect_to",
    CONF_EXTENSION: "invalid_extension",
    CONF_CIDNAME: "invalid_cidname",
}


def _clean(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Strip the whitespace a paste leaves around each field."""
    return {key: value.strip() for key, value in user_input.items()}


def _without_token(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the values a form may suggest: never the token."""
    return {
        key: value for key, value in (values or {}).items() if key != CONF_API_TOKEN
    }


def _format_errors(data: Mapping[str, str]) -> dict[str, str]:
    """Return field errors found without asking the provider."""
    errors: dict[str, str] = {}
    if not EXTENSION_PATTERN.fullmatch(data[CONF_EXTENSION]):
        errors[CONF_EXTENSION] = "invalid_extension"
    try:
        url = URL(data[CONF_URL]) if "://" in data[CONF_URL] else None
    except ValueError:  # yarl refuses e.g. "http://[", "http://:80", a port > 65535
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        errors[CONF_URL] = "invalid_url"
    return errors


class SpectronicsConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one extension of a Spectronics account."""

    VERSION = 1
    # 2: each contact says which phone its call rings first (ring_first).
    MINOR_VERSION = 2

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentry types: quick-dial contacts."""
        return {SUBENTRY_CONTACT: ContactSubentryFlow}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: SpectronicsConfigEntry) -> OptionsFlow:
        """Return the options flow."""
        return SpectronicsOptionsFlow()

    async def _async_check(self, data: Mapping[str, str]) -> dict[str, str]:
        """Check the credentials with the provider; return the form's errors."""
        client = SpectronicsClient(
            async_get_clientsession(self.hass),
            data[CONF_API_TOKEN],
            data[CONF_EXTENSION],
            data[CONF_URL],
        )
        try:
            await client.check_credentials()
        except SpectronicsAuthError:
            return {"base": "invalid_auth"}
        except SpectronicsExtensionError:
            return {CONF_EXTENSION: "invalid_extension"}
        except SpectronicsResponseError:
            return {CONF_URL: "invalid_response"}
        except SpectronicsError:
            return {"base": "cannot_connect"}
        except Exception:  # noqa: BLE001 - any bug must end as "unknown", logged
            LOGGER.exception("Unexpected error while checking the credentials")
            return {"base": "unknown"}
        return {}

    @callback
    def _async_update_and_finish(
        self, entry: ConfigEntry, **changes: Any
    ) -> ConfigFlowResult:
        """Store the change; a loaded account applies it, any other is reloaded.

        A loaded account's update listener takes the new data without a reload, so
        that no call in flight is cancelled. An account that failed to set up (a
        refused token, say) has no listener: it is reloaded with the new data.
        """
        self.hass.config_entries.async_update_entry(entry, **changes)
        if entry.state is not ConfigEntryState.LOADED:
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(
            reason="reauth_successful"
            if self.source == SOURCE_REAUTH
            else "reconfigure_successful"
        )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the token, the extension and the API URL."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _clean(user_input)
            if not (errors := _format_errors(user_input)):
                await self.async_set_unique_id(user_input[CONF_EXTENSION])
                self._abort_if_unique_id_configured()
                errors = await self._async_check(user_input)
            if not errors:
                return self.async_create_entry(
                    title=f"Extension {user_input[CONF_EXTENSION]}", data=user_input
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                ACCOUNT_SCHEMA, _without_token(user_input)
            ),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start re-authentication after the provider refused the token."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new token and check it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **_clean(user_input)}
            if not (errors := await self._async_check(data)):
                return self._async_update_and_finish(
                    entry,
                    data={**entry.data, CONF_API_TOKEN: data[CONF_API_TOKEN]},
                )
            # The form shows the token only: an error on another field goes above it.
            errors = {"base": error for error in errors.values()}
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=TOKEN_SCHEMA,
            description_placeholders={"extension": entry.data[CONF_EXTENSION]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the token, the extension or the API URL; an empty token keeps it."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _clean(user_input)
            data = {
                **user_input,
                CONF_API_TOKEN: user_input.get(CONF_API_TOKEN)
                or entry.data[CONF_API_TOKEN],
            }
            if not (errors := _format_errors(data)):
                extension = data[CONF_EXTENSION]
                if extension != entry.unique_id:
                    await self.async_set_unique_id(extension)
                    self._abort_if_unique_id_configured()
                errors = await self._async_check(data)
            if not errors:
                return self._async_update_and_finish(
                    entry,
                    unique_id=data[CONF_EXTENSION],
                    title=f"Extension {data[CONF_EXTENSION]}",
                    data=data,
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                RECONFIGURE_SCHEMA, _without_token(user_input or entry.data)
            ),
            errors=errors,
        )


def _allowed_numbers(entries: list[str]) -> list[str]:
    """Return the allowed numbers and prefixes, normalized as a call's numbers are."""
    allowed: list[str] = []
    for entry in filter(None, (entry.strip() for entry in entries)):
        prefix = entry.endswith("*")
        number = normalize_number(CONF_ALLOWED_NUMBERS, entry.removesuffix("*"))
        allowed.append(f"{number}*" if prefix else number)
    return list(dict.fromkeys(allowed))


class SpectronicsOptionsFlow(OptionsFlow):
    """Defaults for calls that do not set them, and the safety rails."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the call defaults and the safety rails."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options = {
                **user_input,
                CONF_CIDNAME: user_input.get(CONF_CIDNAME, "").strip(),
                CONF_CONNECT_TO: user_input.get(CONF_CONNECT_TO, "").strip(),
            }
            options |= {key: int(options[key]) for key in INTEGER_OPTIONS}
            try:
                validate_cidname(options[CONF_CIDNAME])
            except SpectronicsValidationError:
                errors[CONF_CIDNAME] = "invalid_cidname"
            if options[CONF_CONNECT_TO]:
                try:
                    options[CONF_CONNECT_TO] = normalize_number(
                        CONF_CONNECT_TO, options[CONF_CONNECT_TO]
                    )
                except SpectronicsValidationError:
                    errors[CONF_CONNECT_TO] = "invalid_connect_to"
            try:
                options[CONF_ALLOWED_NUMBERS] = _allowed_numbers(
                    options.get(CONF_ALLOWED_NUMBERS, [])
                )
            except SpectronicsValidationError:
                errors[CONF_ALLOWED_NUMBERS] = "invalid_allowed_number"
            if not errors:
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )


class ContactSubentryFlow(ConfigSubentryFlow):
    """Add or change a contact: its name and which phone rings first, then the rest."""

    _name: str
    _ring_first: str

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for the new contact's name and which phone its call rings first."""
        return await self._async_step_contact(user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a contact; its entities stay, the next call uses the change."""
        return await self._async_step_contact(
            user_input, self._get_reconfigure_subentry()
        )

    async def async_step_my_extension(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for the number your extension connects to once you answer."""
        return await self._async_step_kind(user_input)

    async def async_step_contact_number(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for the contact's number, rung first, and what it connects to."""
        return await self._async_step_kind(user_input)

    async def async_step_contact_extension(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for the contact's extension, rung first, and what it connects to."""
        return await self._async_step_kind(user_input)

    async def _async_step_contact(
        self, user_input: dict[str, Any] | None, subentry: ConfigSubentry | None
    ) -> SubentryFlowResult:
        """Ask for the name and the first leg, then go on to that kind's step."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = " ".join(user_input[CONF_NAME].split())
            if not name:
                errors[CONF_NAME] = "invalid_name"
            elif self._name_in_use(name, subentry):
                errors[CONF_NAME] = "name_in_use"
            else:
                self._name, self._ring_first = name, user_input[CONF_RING_FIRST]
                return await self._async_step_kind(None)
        suggested = user_input
        if suggested is None and subentry is not None:
            suggested = {
                CONF_NAME: subentry.title,
                CONF_RING_FIRST: ring_first(subentry),
            }
        return self.async_show_form(
            step_id="user" if subentry is None else "reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                CONTACT_SCHEMA, suggested or {}
            ),
            description_placeholders=(
                {CONF_NAME: subentry.title} if subentry is not None else None
            ),
            errors=errors,
            last_step=False,  # the kind's fields come next: the button says Next
        )

    async def _async_step_kind(
        self, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """Ask for the fields of the contact's kind; then store the contact."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._validate(user_input)
            if not errors:
                if self.source == SOURCE_RECONFIGURE:
                    return self.async_update_and_abort(
                        self._get_entry(),
                        self._get_reconfigure_subentry(),
                        title=self._name,
                        data=data,
                    )
                return self.async_create_entry(title=self._name, data=data)
        return self.async_show_form(
            step_id=KIND_STEPS[self._ring_first],
            data_schema=self.add_suggested_values_to_schema(
                CONTACT_KIND_SCHEMAS[self._ring_first],
                user_input or self._suggested_values(),
            ),
            description_placeholders={CONF_NAME: self._name},
            errors=errors,
        )

    def _suggested_values(self) -> Mapping[str, Any]:
        """Return the contact's own values when it keeps its kind, else defaults."""
        if self.source == SOURCE_RECONFIGURE:
            subentry = self._get_reconfigure_subentry()
            if ring_first(subentry) == self._ring_first:
                return subentry.data
        return {CONF_WAIT: self._get_entry().options.get(CONF_WAIT, False)}

    def _name_in_use(self, name: str, subentry: ConfigSubentry | None) -> bool:
        """Return whether another contact of the account has this name."""
        return any(
            other is not subentry and other.title.casefold() == name.casefold()
            for other in self._get_entry().subentries.values()  # all are contacts
        )

    def _validate(
        self, user_input: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Return the data to store and the field errors of the kind's fields."""
        errors: dict[str, str] = {}
        data: dict[str, Any] = {
            CONF_RING_FIRST: self._ring_first,
            CONF_WAIT: user_input[CONF_WAIT],
        }
        validators = dict(CONTACT_VALIDATORS)
        if self._ring_first == RING_CONTACT_EXTENSION:
            validators[CONF_DESTINATION] = validate_extension
        # The schema's keys are vol.Required/Optional markers: store their names.
        for key in map(str, CONTACT_KIND_SCHEMAS[self._ring_first].schema):
            if key not in validators:
                continue
            value = user_input.get(key, "").strip()
            if not value and key != CONF_DESTINATION:
                continue
            try:
                data[key] = validators[key](value)
            except SpectronicsValidationError:
                errors[key] = CONTACT_ERRORS[key]
        if self._ring_first == RING_CONTACT_EXTENSION and CONF_DESTINATION in errors:
            errors[CONF_DESTINATION] = "invalid_contact_extension"
        return data, errors
