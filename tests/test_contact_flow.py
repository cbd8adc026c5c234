"""Contact subentry flow: both steps, each kind, errors, reconfigure, delete, migration."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from http import HTTPStatus
from string import Formatter
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    flush_store,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.spectronics_voip import async_migrate_entry
from custom_components.spectronics_voip.config_flow import (
    CONTACT_ERRORS,
    CONTACT_VALIDATORS,
)
from custom_components.spectronics_voip.const import (
    CONF_CIDNAME,
    CONF_CONNECT_TO,
    CONF_COOLDOWN,
    CONF_DESTINATION,
    CONF_EXTENSION,
    CONF_REVERSE,
    CONF_RING_FIRST,
    CONF_SOURCE,
    CONF_WAIT,
    DOMAIN,
    EVENT_CALL_RESULT,
    MANUFACTURER,
    RING_CONTACT_EXTENSION,
    RING_CONTACT_NUMBER,
    RING_FIRST_OPTIONS,
    RING_MY_EXTENSION,
    SUBENTRY_CONTACT,
)
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentryData,
    SubentryFlowResult,
)
from homeassistant.const import CONF_API_TOKEN, CONF_NAME, CONF_URL, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.selector import SelectSelector
from homeassistant.setup import async_setup_component

from .common import (
    EXCEPTIONS,
    LAST_CALL,
    TRANSLATIONS,
    contact_id,
    entry_device,
    make_entry,
    place_call,
    until,
)
from .simulator import ALL_TOKEN, EXTENSION, OTHER_EXTENSION, Simulator

STRINGS: dict[str, Any] = TRANSLATIONS["config_subentries"][SUBENTRY_CONTACT]
KIND_LABELS: dict[str, str] = TRANSLATIONS["selector"][CONF_RING_FIRST]["options"]
# The fields of each kind's step, in the order the form shows them.
KIND_FIELDS: dict[str, list[str]] = {
    RING_MY_EXTENSION: [CONF_DESTINATION, CONF_CIDNAME, CONF_WAIT, CONF_EXTENSION],
    RING_CONTACT_NUMBER: [CONF_DESTINATION, CONF_CONNECT_TO, CONF_CIDNAME, CONF_WAIT],
    RING_CONTACT_EXTENSION: [
        CONF_DESTINATION,
        CONF_CONNECT_TO,
        CONF_CIDNAME,
        CONF_WAIT,
    ],
}
MODELS: dict[str, str] = {
    RING_MY_EXTENSION: "Quick dial: your extension rings first",
    RING_CONTACT_NUMBER: "Their number rings first",
    RING_CONTACT_EXTENSION: "Their extension rings first",
}
# What the valid input of each kind's step stores as the contact's number.
NUMBERS: dict[str, str] = {
    RING_MY_EXTENSION: "07700900789",
    RING_CONTACT_NUMBER: "07700900789",
    RING_CONTACT_EXTENSION: OTHER_EXTENSION,
}
MUM = {
    CONF_RING_FIRST: RING_CONTACT_NUMBER,
    CONF_DESTINATION: "07700900123",
    CONF_CIDNAME: "Mum calling",
}
DAD = {
    CONF_RING_FIRST: RING_MY_EXTENSION,
    CONF_DESTINATION: "07700900456",
    CONF_EXTENSION: OTHER_EXTENSION,
}
OFFICE = {
    CONF_RING_FIRST: RING_CONTACT_EXTENSION,
    CONF_DESTINATION: OTHER_EXTENSION,
    CONF_CONNECT_TO: "07700900999",
}
CONTACTS = {"Mum": MUM, "Dad": DAD, "Office": OFFICE}
SLOW_NUMBER = "01632960001"
# The form labels the contact's number "Number": its error text says so, and is
# otherwise the action's.
FORM_WORDING: dict[str, tuple[str, str]] = {
    "invalid_destination": ("The destination ", "The number "),
}


@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """Return the entry for extension 1234567 with a contact of each kind."""
    return make_entry(simulator.url, contacts=CONTACTS)


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry against the simulator."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def assert_translated(result: Mapping[str, Any]) -> None:
    """Check the step, its fields, placeholders, errors and abort reason are in en.json."""
    if result["type"] is FlowResultType.ABORT:
        assert result["reason"] in STRINGS["abort"]
        return
    assert result["type"] is FlowResultType.FORM
    step = STRINGS["step"][result["step_id"]]
    fields = {str(key) for key in result["data_schema"].schema}
    assert fields == set(step["data"]) == set(step["data_description"])
    texts = [
        step["title"],
        step["description"],
        *step["data"].values(),
        *step["data_description"].values(),
    ]
    assert all(text.strip() for text in texts)
    placeholders = {
        name for text in texts for _, name, _, _ in Formatter().parse(text) if name
    }
    assert placeholders <= set(result["description_placeholders"] or {})
    for field, error in (result["errors"] or {}).items():
        assert field in fields
        assert error in STRINGS["error"]
    assert ALL_TOKEN not in repr(result)
    assert CONF_API_TOKEN not in fields


def form_text(key: str) -> str:
    """Return the text the form shows for an error the action also raises."""
    text: str = EXCEPTIONS[key]["message"]
    if key in FORM_WORDING:
        text = text.replace(*FORM_WORDING[key])
    return text


def suggested(result: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values a form suggests, by field."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def fields_of(result: Mapping[str, Any]) -> list[str]:
    """Return the fields a form shows, in order."""
    return [str(key) for key in result["data_schema"].schema]


def kind_input(kind: str, **changes: Any) -> dict[str, Any]:
    """Return valid input for a kind's step, with some fields changed."""
    number = OTHER_EXTENSION if kind == RING_CONTACT_EXTENSION else "07700 900-789"
    return {CONF_DESTINATION: number, CONF_WAIT: False, **changes}


def stored(kind: str, **changes: Any) -> dict[str, Any]:
    """Return the data `kind_input(kind)` stores, with some fields changed."""
    return {
        CONF_RING_FIRST: kind,
        CONF_DESTINATION: NUMBERS[kind],
        CONF_WAIT: False,
        **changes,
    }


async def configure(
    result: SubentryFlowResult, hass: HomeAssistant, data: Mapping[str, Any]
) -> SubentryFlowResult:
    """Submit the form of a contact flow."""
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], dict(data)
    )


async def start_flow(hass: HomeAssistant, entry: MockConfigEntry) -> SubentryFlowResult:
    """Start adding a contact and check the empty first form."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CONTACT), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert suggested(result) == {}
    assert result["last_step"] is False  # the kind's fields follow: "Next"
    assert_translated(result)
    return result


async def start_reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, name: str
) -> SubentryFlowResult:
    """Start changing the contact with this name and check its first form."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CONTACT),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": contact_id(entry, name)},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {CONF_NAME: name}
    assert_translated(result)
    return result


async def next_step(
    result: SubentryFlowResult, hass: HomeAssistant, name: str, kind: str
) -> SubentryFlowResult:
    """Submit the first step and check the kind's form that follows."""
    result = await configure(result, hass, {CONF_NAME: name, CONF_RING_FIRST: kind})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    assert result["errors"] == {}
    assert result["description_placeholders"] == {CONF_NAME: " ".join(name.split())}
    assert_translated(result)
    return result


async def start_kind(
    hass: HomeAssistant, entry: MockConfigEntry, kind: str, name: str = "Front door"
) -> SubentryFlowResult:
    """Start adding a contact of a kind; return its kind's form."""
    return await next_step(await start_flow(hass, entry), hass, name, kind)


async def change_contact(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    name: str,
    kind: str,
    user_input: Mapping[str, Any],
) -> None:
    """Change a contact's kind and fields through the reconfigure flow."""
    result = await next_step(
        await start_reconfigure(hass, entry, name), hass, name, kind
    )
    result = await configure(result, hass, user_input)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()


async def set_connect_to(
    hass: HomeAssistant, entry: MockConfigEntry, connect_to: str
) -> None:
    """Set the account's "Connect to" option through the options flow."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CONNECT_TO: connect_to}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


def device_subentries(device: dr.DeviceEntry) -> dict[str, set[str | None]]:
    """Return the entries and subentries a device belongs to, on either HA version."""
    if hasattr(device, "config_subentry_id"):
        # 2026.x: a device belongs to one entry and one subentry.
        return {device.config_entry_id: {device.config_subentry_id}}
    return dict(device.config_entries_subentries)


def contact_entities(
    hass: HomeAssistant, subentry_id: str
) -> dict[str, er.RegistryEntry]:
    """Return the registry entries of a contact's entities, by entity id."""
    return {
        entity.entity_id: entity
        for entity in er.async_get(hass).entities.values()
        if entity.config_subentry_id == subentry_id
    }


def expected_entities(name: str, kind: str) -> set[str]:
    """Return a contact's entity ids: a Call button, a notify entity unless quick dial."""
    slug = name.lower().replace(" ", "_")
    notify = {f"notify.{slug}"} if kind != RING_MY_EXTENSION else set()
    return {f"button.{slug}_call", *notify}


def assert_available(hass: HomeAssistant, entity_id: str) -> None:
    """Check an entity has a state and is available."""
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state != STATE_UNAVAILABLE


async def press(hass: HomeAssistant, entity_id: str) -> None:
    """Press a Call button and wait for the call."""
    await hass.services.async_call(
        "button", "press", {"entity_id": entity_id}, blocking=True
    )


async def send_message(hass: HomeAssistant, entity_id: str, message: str) -> None:
    """Send a message to a contact's notify entity and wait for the call."""
    await hass.services.async_call(
        "notify",
        "send_message",
        {"entity_id": entity_id, "message": message},
        blocking=True,
    )


def start_slow_call(
    hass: HomeAssistant, simulator: Simulator
) -> asyncio.Task[ServiceResponse]:
    """Start a call that stays in flight (wait on) for two seconds."""
    simulator.ring_time = 2.0
    # A plain task: async_block_till_done must not wait for it.
    return asyncio.get_running_loop().create_task(
        place_call(
            hass,
            {CONF_DESTINATION: SLOW_NUMBER, CONF_WAIT: True},
            return_response=True,
        )
    )


async def saved_contacts(
    hass: HomeAssistant, hass_storage: dict[str, Any], entry: MockConfigEntry
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Return the entry's minor version and contacts as saved (what a restart reads)."""
    await flush_store(hass.config_entries._store)  # noqa: SLF001 - no public flush
    [saved] = [
        saved
        for saved in hass_storage["core.config_entries"]["data"]["entries"]
        if saved["entry_id"] == entry.entry_id
    ]
    return saved["minor_version"], {
        subentry["title"]: subentry["data"] for subentry in saved["subentries"]
    }


async def test_first_step(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The first step asks for the name and which phone rings first, translated."""
    add = await start_flow(hass, init_integration)
    change = await start_reconfigure(hass, init_integration, "Office")

    for result in (add, change):
        assert fields_of(result) == [CONF_NAME, CONF_RING_FIRST]
        schema = result["data_schema"].schema
        [key] = [key for key in schema if key == CONF_RING_FIRST]
        assert key.default() == RING_MY_EXTENSION
        selector = schema[key]
        assert isinstance(selector, SelectSelector)
        assert selector.config["options"] == list(RING_FIRST_OPTIONS)
        assert selector.config["translation_key"] == CONF_RING_FIRST
    assert set(KIND_LABELS) == set(RING_FIRST_OPTIONS) == set(MODELS)
    assert all(label.strip() for label in KIND_LABELS.values())
    # Changing a contact suggests its own name and kind.
    assert suggested(change) == {
        CONF_NAME: "Office",
        CONF_RING_FIRST: RING_CONTACT_EXTENSION,
    }


@pytest.mark.parametrize("kind", RING_FIRST_OPTIONS)
async def test_kind_form_shows_only_its_fields(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    kind: str,
) -> None:
    """Each kind's step shows its own fields, translated; another kind's are refused."""
    entry = init_integration
    result = await start_kind(hass, entry, kind, name="  Front \t door ")

    assert fields_of(result) == KIND_FIELDS[kind]
    step = STRINGS["step"][kind]
    for field in KIND_FIELDS[kind]:
        assert step["data"][field].strip()
        assert step["data_description"][field].strip()
    assert "{name}" in step["title"]
    if kind == RING_CONTACT_EXTENSION:
        # A token for one extension would ring the account's own extension instead.
        assert "token valid for all extensions" in step["description"]
    assert suggested(result) == {CONF_WAIT: False}
    others = {CONF_CONNECT_TO, CONF_EXTENSION, CONF_SOURCE, CONF_REVERSE}
    for field in sorted(others - set(KIND_FIELDS[kind])):
        value: Any = True if field == CONF_REVERSE else "07700900555"
        with pytest.raises(InvalidData):
            await configure(result, hass, {**kind_input(kind), field: value})

    result = await configure(result, hass, kind_input(kind))

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Front door"
    assert result["data"] == stored(kind)
    assert simulator.calls == []


@pytest.mark.parametrize(
    ("kind", "user_input", "data", "request_fields"),
    [
        pytest.param(
            RING_MY_EXTENSION,
            {
                CONF_DESTINATION: " 07700 900-789 ",
                CONF_CIDNAME: "",
                CONF_EXTENSION: "  ",
                CONF_WAIT: True,
            },
            {CONF_DESTINATION: "07700900789", CONF_WAIT: True},
            {"extension": EXTENSION, "destination": "07700900789", "wait": "1"},
            id="my_extension_empty_optional_fields",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {
                CONF_DESTINATION: "(07700) 900.789",
                CONF_CIDNAME: " Front door ",
                CONF_EXTENSION: f" {OTHER_EXTENSION} ",
                CONF_WAIT: False,
            },
            {
                CONF_DESTINATION: "07700900789",
                CONF_CIDNAME: "Front door",
                CONF_EXTENSION: OTHER_EXTENSION,
                CONF_WAIT: False,
            },
            {
                "extension": OTHER_EXTENSION,
                "destination": "07700900789",
                "cidname": "Front door",
                "wait": "0",
            },
            id="my_extension_every_field",
        ),
        pytest.param(
            RING_CONTACT_NUMBER,
            {
                CONF_DESTINATION: " 07700 900-789 ",
                CONF_CONNECT_TO: " ",
                CONF_CIDNAME: "",
                CONF_WAIT: True,
            },
            {CONF_DESTINATION: "07700900789", CONF_WAIT: True},
            {
                "extension": EXTENSION,
                "source": "07700900789",
                "destination": EXTENSION,
                "wait": "1",
            },
            id="contact_number_empty_optional_fields",
        ),
        pytest.param(
            RING_CONTACT_NUMBER,
            {
                CONF_DESTINATION: "+44 7700 900-789",
                CONF_CONNECT_TO: "+44 20 7946-0000",
                CONF_CIDNAME: " Front door ",
                CONF_WAIT: False,
            },
            {
                CONF_DESTINATION: "+447700900789",
                CONF_CONNECT_TO: "+442079460000",
                CONF_CIDNAME: "Front door",
                CONF_WAIT: False,
            },
            {
                "extension": EXTENSION,
                "source": "+447700900789",
                "destination": "+442079460000",
                "cidname": "Front door",
                "wait": "0",
            },
            id="contact_number_every_field",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {
                CONF_DESTINATION: f" {OTHER_EXTENSION} ",
                CONF_CONNECT_TO: "",
                CONF_CIDNAME: " ",
                CONF_WAIT: True,
            },
            {CONF_DESTINATION: OTHER_EXTENSION, CONF_WAIT: True},
            {"extension": OTHER_EXTENSION, "destination": EXTENSION, "wait": "1"},
            id="contact_extension_empty_optional_fields",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {
                CONF_DESTINATION: OTHER_EXTENSION,
                CONF_CONNECT_TO: "(01632) 960 002",
                CONF_CIDNAME: "Front door",
                CONF_WAIT: False,
            },
            {
                CONF_DESTINATION: OTHER_EXTENSION,
                CONF_CONNECT_TO: "01632960002",
                CONF_CIDNAME: "Front door",
                CONF_WAIT: False,
            },
            {
                "extension": OTHER_EXTENSION,
                "destination": "01632960002",
                "cidname": "Front door",
                "wait": "0",
            },
            id="contact_extension_every_field",
        ),
    ],
)
async def test_create_contact(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    *,
    kind: str,
    user_input: dict[str, Any],
    data: dict[str, Any],
    request_fields: dict[str, str],
) -> None:
    """A new contact is stored normalized; its device and entities appear, no reload."""
    entry = init_integration
    dialer = entry.runtime_data
    checks = len(simulator.requests)
    call = start_slow_call(hass, simulator)
    await until(lambda: simulator.in_flight)
    result = await start_kind(hass, entry, kind, name="  Front \t door ")

    result = await configure(result, hass, user_input)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Front door"
    assert result["data"] == {CONF_RING_FIRST: kind, **data}
    [subentry] = [s for s in entry.subentries.values() if s.title == "Front door"]
    assert subentry.subentry_type == SUBENTRY_CONTACT
    assert dict(subentry.data) == {CONF_RING_FIRST: kind, **data}
    # Not reloaded: no second credentials check, the same dialer, the call goes on.
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is dialer
    assert simulator.in_flight == 1
    response = await call
    assert response is not None
    assert response["success"] is True
    assert response["message"] == "Call answered"
    assert len(simulator.requests) == checks + 1

    entities = contact_entities(hass, subentry.subentry_id)
    assert set(entities) == expected_entities("Front door", kind)
    device = entry_device(hass, entry, subentry.subentry_id)
    assert device is not None
    account = entry_device(hass, entry)
    assert account is not None
    assert device.name == "Front door"
    assert device.manufacturer == MANUFACTURER == "Spectronics"
    assert device.model == MODELS[kind]
    assert device.via_device_id == account.id
    assert device_subentries(device) == {entry.entry_id: {subentry.subentry_id}}
    for entity_id, entity in entities.items():
        assert entity.device_id == device.id
        assert entity.config_entry_id == entry.entry_id
        assert entity.unique_id.startswith(f"{entry.entry_id}_{subentry.subentry_id}_")
        assert_available(hass, entity_id)
    # The other contacts' entities are still there, untouched.
    for name, contact in CONTACTS.items():
        subentry_id = contact_id(entry, name)
        assert set(contact_entities(hass, subentry_id)) == expected_entities(
            name, contact[CONF_RING_FIRST]
        )

    # The new button places the stored call, as typed in the form.
    simulator.ring_time = 0.0
    await press(hass, "button.front_door_call")
    assert simulator.calls[-1] == {"auth": ALL_TOKEN, "reverse": "0", **request_fields}
    first = request_fields.get("source", request_fields["extension"])
    assert simulator.rung_first[-1] == first


async def test_contacts_are_saved(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator: Simulator,
    init_integration: MockConfigEntry,
) -> None:
    """Added and changed contacts are saved as they are held: a restart reads them."""
    entry = init_integration
    for kind, name in zip(RING_FIRST_OPTIONS, ("Ann", "Bob", "Cat"), strict=True):
        result = await start_kind(hass, entry, kind, name=name)
        extra = {CONF_CONNECT_TO: "01632960002"} if kind != RING_MY_EXTENSION else {}
        result = await configure(
            result, hass, kind_input(kind, cidname="Hello", **extra)
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
    await change_contact(
        hass,
        entry,
        "Mum",
        RING_CONTACT_NUMBER,
        {
            CONF_DESTINATION: MUM[CONF_DESTINATION],
            CONF_CIDNAME: MUM[CONF_CIDNAME],
            CONF_WAIT: True,
        },
    )

    # Plain string keys (a form's field is a voluptuous marker that only compares
    # equal to its name): anything else cannot be written as JSON.
    for subentry in entry.subentries.values():
        assert [type(key) for key in subentry.data] == [str] * len(subentry.data)
    minor_version, saved = await saved_contacts(hass, hass_storage, entry)

    assert minor_version == 2
    assert saved == {
        subentry.title: dict(subentry.data) for subentry in entry.subentries.values()
    }
    assert saved["Mum"] == {**MUM, CONF_WAIT: True}
    assert saved["Cat"] == stored(
        RING_CONTACT_EXTENSION, cidname="Hello", connect_to="01632960002"
    )


async def test_contact_flow_over_the_frontend_api(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: Simulator,
    init_integration: MockConfigEntry,
) -> None:
    """The frontend's HTTP API adds and changes a contact and shows the field errors."""
    entry = init_integration
    assert await async_setup_component(hass, "config", {})
    client = await hass_client()
    flows = "/api/config/config_entries/subentries/flow"
    handler = [entry.entry_id, SUBENTRY_CONTACT]

    async def post(url: str, data: dict[str, Any]) -> dict[str, Any]:
        """Post as the frontend does; return the flow's next step."""
        response = await client.post(url, json=data)
        assert response.status == HTTPStatus.OK, await response.text()
        result: dict[str, Any] = await response.json()
        return result

    result = await post(flows, {"handler": handler})
    assert result["step_id"] == "user"
    step = f"{flows}/{result['flow_id']}"
    result = await post(
        step, {CONF_NAME: "Front door", CONF_RING_FIRST: RING_CONTACT_NUMBER}
    )
    assert result["step_id"] == RING_CONTACT_NUMBER
    assert [field["name"] for field in result["data_schema"]] == KIND_FIELDS[
        RING_CONTACT_NUMBER
    ]
    result = await post(
        step, {CONF_DESTINATION: "nope", CONF_CONNECT_TO: "nope", CONF_WAIT: False}
    )
    assert result["type"] == "form"
    assert result["errors"] == {
        CONF_DESTINATION: "invalid_destination",
        CONF_CONNECT_TO: "invalid_connect_to",
    }
    result = await post(step, {CONF_DESTINATION: "07700 900 789", CONF_WAIT: True})
    assert result["type"] == "create_entry"
    assert result["title"] == "Front door"
    subentry_id = contact_id(entry, "Front door")
    assert dict(entry.subentries[subentry_id].data) == stored(
        RING_CONTACT_NUMBER, wait=True
    )

    result = await post(flows, {"handler": handler, "subentry_id": subentry_id})
    assert result["step_id"] == "reconfigure"
    step = f"{flows}/{result['flow_id']}"
    result = await post(
        step, {CONF_NAME: "Front door", CONF_RING_FIRST: RING_CONTACT_EXTENSION}
    )
    assert result["step_id"] == RING_CONTACT_EXTENSION
    result = await post(step, {CONF_DESTINATION: "1234", CONF_WAIT: False})
    assert result["errors"] == {CONF_DESTINATION: "invalid_contact_extension"}
    result = await post(step, {CONF_DESTINATION: OTHER_EXTENSION, CONF_WAIT: False})
    assert result["type"] == "abort"
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.subentries[subentry_id].data) == stored(RING_CONTACT_EXTENSION)
    assert simulator.calls == []


@pytest.mark.parametrize("name", ["", " \t\n "])
async def test_create_invalid_name_then_recovery(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    name: str,
) -> None:
    """An empty name re-shows the first step with what was typed; a fix goes on."""
    entry = init_integration
    requests = len(simulator.requests)
    result = await start_flow(hass, entry)
    user_input = {CONF_NAME: name, CONF_RING_FIRST: RING_CONTACT_NUMBER}

    result = await configure(result, hass, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_NAME: "invalid_name"}
    assert_translated(result)
    assert suggested(result) == user_input
    assert len(entry.subentries) == len(CONTACTS)

    result = await next_step(result, hass, "Front door", RING_CONTACT_NUMBER)
    result = await configure(result, hass, kind_input(RING_CONTACT_NUMBER))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Front door"
    assert result["data"] == stored(RING_CONTACT_NUMBER)
    assert hass.states.get("notify.front_door") is not None
    assert len(simulator.requests) == requests


@pytest.mark.parametrize(
    ("kind", "changes", "errors"),
    [
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_DESTINATION: ""},
            {CONF_DESTINATION: "invalid_destination"},
            id="my_extension_destination_empty",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_DESTINATION: "07700 CALL ME"},
            {CONF_DESTINATION: "invalid_destination"},
            id="my_extension_destination_letters",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_DESTINATION: "0" * 33},
            {CONF_DESTINATION: "invalid_destination"},
            id="my_extension_destination_too_long",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_DESTINATION: "0770+0900"},
            {CONF_DESTINATION: "invalid_destination"},
            id="my_extension_destination_inner_plus",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_EXTENSION: "123456"},
            {CONF_EXTENSION: "invalid_extension"},
            id="my_extension_extension_short",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_EXTENSION: "12345678"},
            {CONF_EXTENSION: "invalid_extension"},
            id="my_extension_extension_long",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_EXTENSION: "12a4567"},
            {CONF_EXTENSION: "invalid_extension"},
            id="my_extension_extension_letter",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_CIDNAME: "Front\ndoor"},
            {CONF_CIDNAME: "invalid_cidname"},
            id="my_extension_cidname_newline",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_CIDNAME: "Ring\x07ring"},
            {CONF_CIDNAME: "invalid_cidname"},
            id="my_extension_cidname_bell",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_CIDNAME: "x" * 41},
            {CONF_CIDNAME: "invalid_cidname"},
            id="my_extension_cidname_too_long",
        ),
        pytest.param(
            RING_MY_EXTENSION,
            {CONF_DESTINATION: "nope", CONF_EXTENSION: "1", CONF_CIDNAME: "\x00"},
            {
                CONF_DESTINATION: "invalid_destination",
                CONF_EXTENSION: "invalid_extension",
                CONF_CIDNAME: "invalid_cidname",
            },
            id="my_extension_every_field_at_once",
        ),
        pytest.param(
            RING_CONTACT_NUMBER,
            {CONF_DESTINATION: " "},
            {CONF_DESTINATION: "invalid_destination"},
            id="contact_number_destination_empty",
        ),
        pytest.param(
            RING_CONTACT_NUMBER,
            {CONF_DESTINATION: "sip:mum@example.com"},
            {CONF_DESTINATION: "invalid_destination"},
            id="contact_number_destination_letters",
        ),
        pytest.param(
            RING_CONTACT_NUMBER,
            {CONF_CONNECT_TO: "my mobile"},
            {CONF_CONNECT_TO: "invalid_connect_to"},
            id="contact_number_connect_to_letters",
        ),
        pytest.param(
            RING_CONTACT_NUMBER,
            {CONF_CONNECT_TO: "0" * 33},
            {CONF_CONNECT_TO: "invalid_connect_to"},
            id="contact_number_connect_to_too_long",
        ),
        pytest.param(
            RING_CONTACT_NUMBER,
            {CONF_CONNECT_TO: "0770+0900"},
            {CONF_CONNECT_TO: "invalid_connect_to"},
            id="contact_number_connect_to_inner_plus",
        ),
        pytest.param(
            RING_CONTACT_NUMBER,
            {CONF_CIDNAME: "x" * 41},
            {CONF_CIDNAME: "invalid_cidname"},
            id="contact_number_cidname_too_long",
        ),
        pytest.param(
            RING_CONTACT_NUMBER,
            {CONF_DESTINATION: "nope", CONF_CONNECT_TO: "nope", CONF_CIDNAME: "\x00"},
            {
                CONF_DESTINATION: "invalid_destination",
                CONF_CONNECT_TO: "invalid_connect_to",
                CONF_CIDNAME: "invalid_cidname",
            },
            id="contact_number_every_field_at_once",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {CONF_DESTINATION: ""},
            {CONF_DESTINATION: "invalid_contact_extension"},
            id="contact_extension_empty",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {CONF_DESTINATION: "765432"},
            {CONF_DESTINATION: "invalid_contact_extension"},
            id="contact_extension_six_digits",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {CONF_DESTINATION: "76543210"},
            {CONF_DESTINATION: "invalid_contact_extension"},
            id="contact_extension_eight_digits",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {CONF_DESTINATION: "07700900789"},
            {CONF_DESTINATION: "invalid_contact_extension"},
            id="contact_extension_phone_number",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {CONF_DESTINATION: "+765432"},
            {CONF_DESTINATION: "invalid_contact_extension"},
            id="contact_extension_plus",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {CONF_CONNECT_TO: "sip:me@example.com"},
            {CONF_CONNECT_TO: "invalid_connect_to"},
            id="contact_extension_connect_to_letters",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {CONF_CIDNAME: "Front\ndoor"},
            {CONF_CIDNAME: "invalid_cidname"},
            id="contact_extension_cidname_newline",
        ),
        pytest.param(
            RING_CONTACT_EXTENSION,
            {
                CONF_DESTINATION: "desk",
                CONF_CONNECT_TO: "nope",
                CONF_CIDNAME: "Ring\x07",
            },
            {
                CONF_DESTINATION: "invalid_contact_extension",
                CONF_CONNECT_TO: "invalid_connect_to",
                CONF_CIDNAME: "invalid_cidname",
            },
            id="contact_extension_every_field_at_once",
        ),
    ],
)
async def test_create_error_then_recovery(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    *,
    kind: str,
    changes: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Each field error re-shows the kind's form with what was typed; a fix creates it."""
    entry = init_integration
    before = set(entry.subentries)
    requests = len(simulator.requests)
    user_input = kind_input(kind, **changes)
    result = await start_kind(hass, entry, kind)

    result = await configure(result, hass, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    assert result["errors"] == errors
    assert result["description_placeholders"] == {CONF_NAME: "Front door"}
    assert_translated(result)
    assert suggested(result) == user_input
    assert set(entry.subentries) == before
    assert len(simulator.requests) == requests

    result = await configure(result, hass, kind_input(kind))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Front door"
    assert result["data"] == stored(kind)
    assert len(entry.subentries) == len(before) + 1
    subentry_id = contact_id(entry, "Front door")
    assert set(contact_entities(hass, subentry_id)) == expected_entities(
        "Front door", kind
    )
    assert_available(hass, "button.front_door_call")
    assert simulator.calls == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (CONF_DESTINATION, "07700 CALL ME"),
        (CONF_EXTENSION, "123456"),
        (CONF_CIDNAME, "Front\ndoor"),
        (CONF_CIDNAME, "x" * 41),
    ],
)
async def test_errors_match_the_action(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    field: str,
    value: str,
) -> None:
    """A bad value gets the same key, and the same rule in its text, as in the action."""
    with pytest.raises(ServiceValidationError) as exc_info:
        await place_call(hass, {CONF_DESTINATION: "07700900789", field: value})
    action_error = exc_info.value
    result = await start_kind(hass, init_integration, RING_MY_EXTENSION)

    result = await configure(
        result, hass, kind_input(RING_MY_EXTENSION, **{field: value})
    )

    key = action_error.translation_key
    assert result["errors"] == {field: key}
    assert key is not None
    assert STRINGS["error"][key] == form_text(key)
    assert str(action_error) == EXCEPTIONS[key]["message"].rstrip(".")
    assert simulator.calls == []


def test_error_texts_are_the_actions() -> None:
    """Every field's error has one text, shared with the action or the options."""
    assert CONTACT_ERRORS == {
        CONF_DESTINATION: "invalid_destination",
        CONF_CONNECT_TO: "invalid_connect_to",
        CONF_EXTENSION: "invalid_extension",
        CONF_CIDNAME: "invalid_cidname",
    }
    assert set(CONTACT_VALIDATORS) == set(CONTACT_ERRORS)
    for key in ("invalid_destination", "invalid_extension", "invalid_cidname"):
        assert STRINGS["error"][key] == form_text(key)
    assert STRINGS["error"]["invalid_destination"].startswith("The number must ")
    # The number of a contact_extension contact is an extension: the same rule.
    assert (
        STRINGS["error"]["invalid_contact_extension"]
        == EXCEPTIONS["invalid_extension"]["message"]
    )
    options_errors = TRANSLATIONS["options"]["error"]
    assert (
        STRINGS["error"]["invalid_connect_to"] == options_errors["invalid_connect_to"]
    )
    assert all(text.strip() for text in STRINGS["error"].values())


@pytest.mark.parametrize(
    ("taken", "name"),
    [
        ("Mum", "mum"),
        ("Mum", " Mum "),
        ("Mum", "MUM"),
        ("Front door", "front   door"),
        ("Front door", " FRONT\tDoor"),
    ],
)
async def test_create_duplicate_name_then_recovery(
    hass: HomeAssistant, simulator: Simulator, taken: str, name: str
) -> None:
    """A name already used by a contact, in any case or spacing, is name_in_use."""
    entry = make_entry(
        simulator.url, contacts={taken: {CONF_DESTINATION: "07700900123"}}
    )
    await setup_entry(hass, entry)
    result = await start_flow(hass, entry)
    user_input = {CONF_NAME: name, CONF_RING_FIRST: RING_CONTACT_EXTENSION}

    result = await configure(result, hass, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_NAME: "name_in_use"}
    assert_translated(result)
    assert suggested(result) == user_input
    assert len(entry.subentries) == 1

    result = await next_step(result, hass, "Grandma", RING_CONTACT_EXTENSION)
    result = await configure(result, hass, kind_input(RING_CONTACT_EXTENSION))

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Grandma"
    assert {s.title for s in entry.subentries.values()} == {taken, "Grandma"}


async def test_create_name_used_by_another_account(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Names are unique per account: another account may have its own Mum."""
    other = make_entry(simulator.url, extension=OTHER_EXTENSION)
    await setup_entry(hass, other)
    result = await start_kind(hass, other, RING_CONTACT_NUMBER, name="Mum")

    result = await configure(result, hass, kind_input(RING_CONTACT_NUMBER))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert [s.title for s in other.subentries.values()] == ["Mum"]
    assert len(contact_entities(hass, contact_id(other, "Mum"))) == 2
    assert hass.states.get("button.mum_call") is not None


@pytest.mark.parametrize("kind", RING_FIRST_OPTIONS)
@pytest.mark.parametrize(
    ("options", "wait"),
    [({}, False), ({CONF_WAIT: False}, False), ({CONF_WAIT: True}, True)],
)
async def test_form_wait_follows_the_account(
    hass: HomeAssistant,
    simulator: Simulator,
    options: dict[str, Any],
    wait: bool,
    kind: str,
) -> None:
    """A new contact's `wait` starts as the account's own `wait` option, in every kind."""
    entry = make_entry(simulator.url, options=options)
    await setup_entry(hass, entry)

    result = await start_kind(hass, entry, kind)

    assert suggested(result) == {CONF_WAIT: wait}


@pytest.mark.parametrize(
    ("contact", "option", "request_fields", "legs"),
    [
        pytest.param(
            {CONF_DESTINATION: "07700900123", CONF_CIDNAME: "Quick"},
            None,
            {"extension": EXTENSION, "destination": "07700900123", "cidname": "Quick"},
            (EXTENSION, "07700900123"),
            id="my_extension_the_accounts",
        ),
        pytest.param(
            {CONF_DESTINATION: "07700900123", CONF_EXTENSION: OTHER_EXTENSION},
            None,
            {"extension": OTHER_EXTENSION, "destination": "07700900123"},
            (OTHER_EXTENSION, "07700900123"),
            id="my_extension_its_own",
        ),
        pytest.param(
            {CONF_DESTINATION: "07700900123"},
            " 07700 900-555 ",
            {"extension": EXTENSION, "destination": "07700900123"},
            (EXTENSION, "07700900123"),
            id="my_extension_ignores_connect_to",
        ),
        pytest.param(
            {CONF_RING_FIRST: RING_CONTACT_NUMBER, CONF_DESTINATION: "07700900123"},
            None,
            {"extension": EXTENSION, "source": "07700900123", "destination": EXTENSION},
            ("07700900123", EXTENSION),
            id="contact_number_to_the_accounts_extension",
        ),
        pytest.param(
            {CONF_RING_FIRST: RING_CONTACT_NUMBER, CONF_DESTINATION: "07700900123"},
            " 07700 900-555 ",
            {
                "extension": EXTENSION,
                "source": "07700900123",
                "destination": "07700900555",
            },
            ("07700900123", "07700900555"),
            id="contact_number_to_the_accounts_connect_to",
        ),
        pytest.param(
            {
                CONF_RING_FIRST: RING_CONTACT_NUMBER,
                CONF_DESTINATION: "07700900123",
                CONF_CONNECT_TO: "02079460958",
                CONF_CIDNAME: "Mum",
            },
            " 07700 900-555 ",
            {
                "extension": EXTENSION,
                "source": "07700900123",
                "destination": "02079460958",
                "cidname": "Mum",
            },
            ("07700900123", "02079460958"),
            id="contact_number_to_its_own_connect_to",
        ),
        pytest.param(
            {
                CONF_RING_FIRST: RING_CONTACT_EXTENSION,
                CONF_DESTINATION: OTHER_EXTENSION,
            },
            None,
            {"extension": OTHER_EXTENSION, "destination": EXTENSION},
            (OTHER_EXTENSION, EXTENSION),
            id="contact_extension_to_the_accounts_extension",
        ),
        pytest.param(
            {
                CONF_RING_FIRST: RING_CONTACT_EXTENSION,
                CONF_DESTINATION: OTHER_EXTENSION,
            },
            " 07700 900-555 ",
            {"extension": OTHER_EXTENSION, "destination": "07700900555"},
            (OTHER_EXTENSION, "07700900555"),
            id="contact_extension_to_the_accounts_connect_to",
        ),
        pytest.param(
            {
                CONF_RING_FIRST: RING_CONTACT_EXTENSION,
                CONF_DESTINATION: OTHER_EXTENSION,
                CONF_CONNECT_TO: "02079460958",
                CONF_CIDNAME: "Desk",
            },
            " 07700 900-555 ",
            {
                "extension": OTHER_EXTENSION,
                "destination": "02079460958",
                "cidname": "Desk",
            },
            (OTHER_EXTENSION, "02079460958"),
            id="contact_extension_to_its_own_connect_to",
        ),
    ],
)
async def test_request_on_the_wire(
    hass: HomeAssistant,
    simulator: Simulator,
    *,
    contact: dict[str, Any],
    option: str | None,
    request_fields: dict[str, str],
    legs: tuple[str, str],
) -> None:
    """A contact's Call button sends its kind's request: the right phone rings first."""
    entry = make_entry(simulator.url, contacts={"Someone": contact})
    await setup_entry(hass, entry)
    if option is not None:
        await set_connect_to(hass, entry, option)
        assert entry.options[CONF_CONNECT_TO] == "07700900555"
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    await press(hass, "button.someone_call")

    assert simulator.calls[-1] == {
        "auth": ALL_TOKEN,
        "reverse": "0",
        "wait": "0",
        **request_fields,
    }
    assert simulator.legs(simulator.calls[-1]) == legs
    assert simulator.rung_first == [legs[0]]
    [event] = events
    assert event.data["contact"] == "Someone"
    assert event.data["ring_first"] == contact.get(CONF_RING_FIRST, RING_MY_EXTENSION)
    assert event.data["rings_first"] == legs[0]
    assert event.data["success"] is True


async def test_wait_reports_the_phone_rung_first(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """With wait, a contact whose phone rings first reports its own answer."""
    entry = make_entry(
        simulator.url,
        options={CONF_COOLDOWN: 0},
        contacts={
            "Quick": {CONF_DESTINATION: "07700900123", CONF_WAIT: True},
            "Mobile": {
                CONF_RING_FIRST: RING_CONTACT_NUMBER,
                CONF_DESTINATION: "07700900456",
                CONF_WAIT: True,
            },
            "Desk": {
                CONF_RING_FIRST: RING_CONTACT_EXTENSION,
                CONF_DESTINATION: OTHER_EXTENSION,
                CONF_WAIT: True,
            },
        },
    )
    await setup_entry(hass, entry)
    simulator.phones[EXTENSION] = "timeout"  # the house phone nobody answers

    await press(hass, "button.mobile_call")
    assert simulator.rung_first[-1] == "07700900456"
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "answered"

    await press(hass, "button.desk_call")
    assert simulator.rung_first[-1] == OTHER_EXTENSION
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "answered"

    with pytest.raises(HomeAssistantError, match="Call timed out"):
        await press(hass, "button.quick_call")
    assert simulator.rung_first[-1] == EXTENSION

    simulator.phones["07700900456"] = "reject"
    with pytest.raises(HomeAssistantError, match="Call rejected"):
        await press(hass, "button.mobile_call")
    assert simulator.rung_first[-1] == "07700900456"
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "failed"
    assert len(simulator.calls) == 4


async def test_reconfigure(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A new name, number and "connect to" apply to the next call; entities stay."""
    entry = init_integration
    dialer = entry.runtime_data
    subentry_id = contact_id(entry, "Mum")
    registry = er.async_get(hass)
    before = contact_entities(hass, subentry_id)
    assert set(before) == {"button.mum_call", "notify.mum"}
    device = entry_device(hass, entry, subentry_id)
    assert device is not None
    assert device.name == "Mum"
    await press(hass, "button.mum_call")
    assert simulator.calls[-1]["source"] == "07700900123"
    assert simulator.calls[-1]["destination"] == EXTENSION
    assert simulator.calls[-1]["cidname"] == "Mum calling"

    result = await start_reconfigure(hass, entry, "Mum")
    assert suggested(result) == {CONF_NAME: "Mum", CONF_RING_FIRST: RING_CONTACT_NUMBER}
    result = await next_step(result, hass, " Mother ", RING_CONTACT_NUMBER)
    # The kind is unchanged: the contact's own values are suggested.
    assert suggested(result) == {
        CONF_DESTINATION: "07700900123",
        CONF_CIDNAME: "Mum calling",
        CONF_WAIT: False,
    }
    checks = len(simulator.requests)
    call = start_slow_call(hass, simulator)
    await until(lambda: simulator.in_flight)

    result = await configure(
        result,
        hass,
        {
            CONF_DESTINATION: "07700 900 999",
            CONF_CONNECT_TO: " (07700) 900-555 ",
            CONF_CIDNAME: "",
            CONF_WAIT: True,
        },
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert_translated(result)
    subentry = entry.subentries[subentry_id]
    assert subentry.title == "Mother"
    # The caller name left empty is removed, not kept from before.
    assert dict(subentry.data) == {
        CONF_RING_FIRST: RING_CONTACT_NUMBER,
        CONF_DESTINATION: "07700900999",
        CONF_CONNECT_TO: "07700900555",
        CONF_WAIT: True,
    }
    # Not reloaded: the same dialer, and the call in flight goes on.
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is dialer
    assert simulator.in_flight == 1
    response = await call
    assert response is not None
    assert response["success"] is True
    assert len(simulator.requests) == checks + 1

    after = contact_entities(hass, subentry_id)
    assert set(after) == set(before)
    for entity_id, entity in after.items():
        assert entity.id == before[entity_id].id
        assert entity.unique_id == before[entity_id].unique_id
        assert entity.device_id == device.id
        assert registry.async_get(entity_id) is not None
    renamed = entry_device(hass, entry, subentry_id)
    assert renamed is not None
    assert renamed.id == device.id
    assert renamed.name == "Mother"
    assert renamed.model == MODELS[RING_CONTACT_NUMBER]
    state = hass.states.get("button.mum_call")
    assert state is not None
    assert state.attributes["friendly_name"] == "Mother Call"

    simulator.ring_time = 0.0
    await press(hass, "button.mum_call")
    assert simulator.calls[-1] == {
        "auth": ALL_TOKEN,
        "extension": EXTENSION,
        "source": "07700900999",
        "destination": "07700900555",
        "reverse": "0",
        "wait": "1",
    }
    assert simulator.rung_first[-1] == "07700900999"
    await send_message(hass, "notify.mum", "Dinner")
    assert simulator.calls[-1]["source"] == "07700900999"
    assert simulator.calls[-1]["destination"] == "07700900555"
    assert simulator.calls[-1]["cidname"] == "Dinner"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        (name, kind)
        for name in CONTACTS
        for kind in RING_FIRST_OPTIONS
        if kind != CONTACTS[name][CONF_RING_FIRST]
    ],
)
async def test_reconfigure_to_another_kind(
    hass: HomeAssistant,
    simulator: Simulator,
    *,
    name: str,
    kind: str,
) -> None:
    """A new kind shows its defaults, not the old kind's values, and stores only its own."""
    entry = make_entry(simulator.url, options={CONF_WAIT: True}, contacts=CONTACTS)
    await setup_entry(hass, entry)
    subentry_id = contact_id(entry, name)
    old_kind = CONTACTS[name][CONF_RING_FIRST]
    result = await start_reconfigure(hass, entry, name)
    assert suggested(result) == {CONF_NAME: name, CONF_RING_FIRST: old_kind}

    result = await next_step(result, hass, name, kind)

    assert fields_of(result) == KIND_FIELDS[kind]
    assert suggested(result) == {CONF_WAIT: True}

    result = await configure(result, hass, kind_input(kind))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.subentries[subentry_id].data) == stored(kind)
    device = entry_device(hass, entry, subentry_id)
    assert device is not None
    assert device.model == MODELS[kind]
    assert set(contact_entities(hass, subentry_id)) == expected_entities(name, kind)
    await press(hass, f"button.{name.lower()}_call")
    first = EXTENSION if kind == RING_MY_EXTENSION else NUMBERS[kind]
    assert simulator.rung_first == [first]


async def test_reconfigure_kind_adds_and_removes_the_notify_entity(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A contact whose own phone rings first has a notify entity; quick dial loses it."""
    entry = init_integration
    dialer = entry.runtime_data
    dad_id = contact_id(entry, "Dad")
    registry = er.async_get(hass)
    button = registry.async_get("button.dad_call")
    mum_notify = registry.async_get("notify.mum")
    assert button is not None
    assert mum_notify is not None
    assert set(contact_entities(hass, dad_id)) == {"button.dad_call"}
    assert hass.states.get("notify.dad") is None
    checks = len(simulator.requests)
    call = start_slow_call(hass, simulator)
    await until(lambda: simulator.in_flight)

    await change_contact(
        hass, entry, "Dad", RING_CONTACT_NUMBER, {CONF_DESTINATION: "07700900456"}
    )

    notify = registry.async_get("notify.dad")
    assert notify is not None
    assert notify.config_subentry_id == dad_id
    device = entry_device(hass, entry, dad_id)
    assert device is not None
    assert notify.device_id == device.id
    assert device.model == MODELS[RING_CONTACT_NUMBER]
    assert_available(hass, "notify.dad")
    assert set(contact_entities(hass, dad_id)) == {"button.dad_call", "notify.dad"}
    assert contact_entities(hass, dad_id)["button.dad_call"].id == button.id
    # Not reloaded: the same dialer, and the call in flight goes on.
    assert entry.runtime_data is dialer
    assert simulator.in_flight == 1
    response = await call
    assert response is not None
    assert response["success"] is True
    assert len(simulator.requests) == checks + 1
    simulator.ring_time = 0.0
    await send_message(hass, "notify.dad", "Dinner is ready")
    assert simulator.calls[-1] == {
        "auth": ALL_TOKEN,
        "extension": EXTENSION,
        "source": "07700900456",
        "destination": EXTENSION,
        "cidname": "Dinner is ready",
        "reverse": "0",
        "wait": "0",
    }
    assert simulator.rung_first[-1] == "07700900456"

    # Their extension: the notify entity stays as it is.
    await change_contact(
        hass, entry, "Dad", RING_CONTACT_EXTENSION, {CONF_DESTINATION: OTHER_EXTENSION}
    )

    kept = registry.async_get("notify.dad")
    assert kept is not None
    assert kept.id == notify.id
    assert_available(hass, "notify.dad")
    await send_message(hass, "notify.dad", "Door")
    assert simulator.calls[-1]["extension"] == OTHER_EXTENSION
    assert simulator.calls[-1]["cidname"] == "Door"
    assert simulator.rung_first[-1] == OTHER_EXTENSION

    # Quick dial again: the notify entity goes, the button stays.
    await change_contact(
        hass, entry, "Dad", RING_MY_EXTENSION, {CONF_DESTINATION: "07700900456"}
    )

    assert registry.async_get("notify.dad") is None
    assert hass.states.get("notify.dad") is None
    assert set(contact_entities(hass, dad_id)) == {"button.dad_call"}
    assert contact_entities(hass, dad_id)["button.dad_call"].id == button.id
    assert_available(hass, "button.dad_call")
    device = entry_device(hass, entry, dad_id)
    assert device is not None
    assert device.model == MODELS[RING_MY_EXTENSION]
    await press(hass, "button.dad_call")
    assert simulator.rung_first[-1] == EXTENSION
    assert simulator.calls[-1]["destination"] == "07700900456"

    # And back to their number: it comes back.
    await change_contact(
        hass, entry, "Dad", RING_CONTACT_NUMBER, {CONF_DESTINATION: "07700900457"}
    )

    assert registry.async_get("notify.dad") is not None
    assert_available(hass, "notify.dad")
    await send_message(hass, "notify.dad", "Again")
    assert simulator.rung_first[-1] == "07700900457"
    # Mum's notify entity was never touched; nothing was reloaded.
    mum_after = registry.async_get("notify.mum")
    assert mum_after is not None
    assert mum_after.id == mum_notify.id
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is dialer


@pytest.mark.parametrize("name", ["Dad", "dad", "  DAD "])
async def test_reconfigure_keeping_the_name(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    name: str,
) -> None:
    """A contact's own name, in any case or spacing, is not a duplicate."""
    entry = init_integration
    subentry_id = contact_id(entry, "Dad")
    result = await start_reconfigure(hass, entry, "Dad")
    result = await next_step(result, hass, name, RING_MY_EXTENSION)
    assert suggested(result) == {
        CONF_DESTINATION: "07700900456",
        CONF_EXTENSION: OTHER_EXTENSION,
        CONF_WAIT: False,
    }

    result = await configure(
        result, hass, {**suggested(result), CONF_DESTINATION: "999"}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry_id].title == " ".join(name.split())
    assert dict(entry.subentries[subentry_id].data) == {
        **DAD,
        CONF_DESTINATION: "999",
        CONF_WAIT: False,
    }


@pytest.mark.parametrize(
    ("name", "error"), [(" dad ", "name_in_use"), (" ", "invalid_name")]
)
async def test_reconfigure_name_error_then_recovery(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    name: str,
    error: str,
) -> None:
    """Renaming Mum to Dad, or to nothing, is refused; nothing changes until fixed."""
    entry = init_integration
    subentry_id = contact_id(entry, "Mum")
    result = await start_reconfigure(hass, entry, "Mum")
    user_input = {CONF_NAME: name, CONF_RING_FIRST: RING_CONTACT_NUMBER}

    result = await configure(result, hass, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_NAME: error}
    assert result["description_placeholders"] == {CONF_NAME: "Mum"}
    assert_translated(result)
    assert suggested(result) == user_input
    assert entry.subentries[subentry_id].title == "Mum"

    result = await next_step(result, hass, "Mother", RING_CONTACT_NUMBER)
    result = await configure(result, hass, suggested(result))

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry_id].title == "Mother"
    assert dict(entry.subentries[subentry_id].data) == {**MUM, CONF_WAIT: False}


@pytest.mark.parametrize(
    ("name", "field", "value", "error", "fixed", "request_field"),
    [
        pytest.param(
            "Dad",
            CONF_DESTINATION,
            "dad's mobile",
            "invalid_destination",
            "07700 900 111",
            ("destination", "07700900111"),
            id="my_extension_destination",
        ),
        pytest.param(
            "Dad",
            CONF_EXTENSION,
            "7654",
            "invalid_extension",
            " 1234567 ",
            ("extension", EXTENSION),
            id="my_extension_extension",
        ),
        pytest.param(
            "Mum",
            CONF_CONNECT_TO,
            "my mobile",
            "invalid_connect_to",
            "+44 7700 900 111",
            ("destination", "+447700900111"),
            id="contact_number_connect_to",
        ),
        pytest.param(
            "Office",
            CONF_DESTINATION,
            "1234",
            "invalid_contact_extension",
            EXTENSION,
            ("extension", EXTENSION),
            id="contact_extension_destination",
        ),
        pytest.param(
            "Office",
            CONF_CIDNAME,
            "x" * 41,
            "invalid_cidname",
            "Office",
            ("cidname", "Office"),
            id="contact_extension_cidname",
        ),
    ],
)
async def test_reconfigure_error_then_recovery(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    *,
    name: str,
    field: str,
    value: str,
    error: str,
    fixed: str,
    request_field: tuple[str, str],
) -> None:
    """A bad value on the change form keeps the contact as it was until fixed."""
    entry = init_integration
    subentry_id = contact_id(entry, name)
    kind = CONTACTS[name][CONF_RING_FIRST]
    stored_before = dict(entry.subentries[subentry_id].data)
    result = await next_step(
        await start_reconfigure(hass, entry, name), hass, name, kind
    )
    user_input = {**suggested(result), field: value}

    result = await configure(result, hass, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    assert result["errors"] == {field: error}
    assert_translated(result)
    assert suggested(result) == user_input
    assert dict(entry.subentries[subentry_id].data) == stored_before

    result = await configure(result, hass, {**user_input, field: fixed})
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    key, sent = request_field
    assert dict(entry.subentries[subentry_id].data) == {
        **stored_before,
        field: sent,
    }
    await press(hass, f"button.{name.lower()}_call")
    assert simulator.calls[-1][key] == sent


async def test_delete_contact(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Deleting a contact removes its device and entities, and nothing else."""
    entry = init_integration
    dialer = entry.runtime_data
    mum_id = contact_id(entry, "Mum")
    dad_id = contact_id(entry, "Dad")
    office_id = contact_id(entry, "Office")
    mum = entry_device(hass, entry, mum_id)
    dad = entry_device(hass, entry, dad_id)
    account = entry_device(hass, entry)
    assert mum is not None
    assert dad is not None
    assert account is not None
    mum_entities = set(contact_entities(hass, mum_id))
    assert mum_entities == {"button.mum_call", "notify.mum"}
    requests = len(simulator.requests)

    assert hass.config_entries.async_remove_subentry(entry, mum_id)
    await hass.async_block_till_done()

    assert mum_id not in entry.subentries
    devices = dr.async_get(hass)
    assert devices.async_get(mum.id) is None
    assert entry_device(hass, entry, mum_id) is None
    registry = er.async_get(hass)
    for entity_id in mum_entities:
        assert registry.async_get(entity_id) is None
        assert hass.states.get(entity_id) is None
    # The account, its Last call, and the other contacts stay, without a reload.
    assert devices.async_get(account.id) is not None
    assert devices.async_get(dad.id) is not None
    assert set(contact_entities(hass, dad_id)) == {"button.dad_call"}
    assert set(contact_entities(hass, office_id)) == {
        "button.office_call",
        "notify.office",
    }
    last_call = registry.async_get(LAST_CALL)
    assert last_call is not None
    assert last_call.device_id == account.id
    assert_available(hass, LAST_CALL)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is dialer
    assert len(simulator.requests) == requests

    await press(hass, "button.dad_call")
    assert simulator.calls[-1]["destination"] == DAD[CONF_DESTINATION]

    # A quick-dial contact (a button only) goes the same way.
    assert hass.config_entries.async_remove_subentry(entry, dad_id)
    await hass.async_block_till_done()
    assert devices.async_get(dad.id) is None
    assert registry.async_get("button.dad_call") is None
    assert hass.states.get("button.dad_call") is None
    assert_available(hass, "notify.office")

    # A contact added afterwards with the deleted one's name gets fresh entities.
    result = await start_kind(hass, entry, RING_CONTACT_NUMBER, name="Mum")
    result = await configure(result, hass, kind_input(RING_CONTACT_NUMBER))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert set(contact_entities(hass, contact_id(entry, "Mum"))) == mum_entities
    await send_message(hass, "notify.mum", "Back")
    assert simulator.rung_first[-1] == "07700900789"


async def test_no_form_shows_the_token(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """No step of the contact flow, with or without errors, shows or asks the token."""
    entry = init_integration
    results: list[SubentryFlowResult] = []
    for kind in RING_FIRST_OPTIONS:
        result = await start_flow(hass, entry)
        results.append(result)
        result = await configure(result, hass, {CONF_NAME: "", CONF_RING_FIRST: kind})
        results.append(result)
        result = await next_step(result, hass, f"New {kind}", kind)
        results.append(result)
        result = await configure(
            result, hass, kind_input(kind, destination="x", cidname="\n")
        )
        results.append(result)
        results.append(await configure(result, hass, kind_input(kind)))
    for name in CONTACTS:
        result = await start_reconfigure(hass, entry, name)
        results.append(result)
        result = await next_step(result, hass, name, CONTACTS[name][CONF_RING_FIRST])
        results.append(result)
        results.append(await configure(result, hass, suggested(result)))

    assert len(results) == 24
    for result in results:
        assert ALL_TOKEN not in repr(result)
        if result["type"] is FlowResultType.CREATE_ENTRY:
            continue
        assert_translated(result)
        if result["type"] is FlowResultType.FORM:
            assert not {CONF_API_TOKEN, "auth"} & set(fields_of(result))


D = "07700900123"
S = "+442079460000"


@pytest.mark.parametrize(
    ("old", "new", "legs"),
    [
        pytest.param(
            {
                CONF_DESTINATION: D,
                CONF_REVERSE: False,
                CONF_WAIT: True,
                CONF_CIDNAME: "Front door",
            },
            {
                CONF_RING_FIRST: RING_MY_EXTENSION,
                CONF_DESTINATION: D,
                CONF_WAIT: True,
                CONF_CIDNAME: "Front door",
            },
            (EXTENSION, D),
            id="quick_dial",
        ),
        pytest.param(
            {
                CONF_DESTINATION: D,
                CONF_REVERSE: False,
                CONF_WAIT: False,
                CONF_EXTENSION: OTHER_EXTENSION,
            },
            {
                CONF_RING_FIRST: RING_MY_EXTENSION,
                CONF_DESTINATION: D,
                CONF_WAIT: False,
                CONF_EXTENSION: OTHER_EXTENSION,
            },
            (OTHER_EXTENSION, D),
            id="quick_dial_own_extension",
        ),
        pytest.param(
            {CONF_SOURCE: S, CONF_DESTINATION: D},
            {
                CONF_RING_FIRST: RING_CONTACT_NUMBER,
                CONF_DESTINATION: S,
                CONF_CONNECT_TO: D,
            },
            (S, D),
            id="source",
        ),
        pytest.param(
            {
                CONF_SOURCE: S,
                CONF_DESTINATION: D,
                CONF_EXTENSION: OTHER_EXTENSION,
                CONF_REVERSE: False,
                CONF_WAIT: True,
                CONF_CIDNAME: "Alarm",
            },
            {
                CONF_RING_FIRST: RING_CONTACT_NUMBER,
                CONF_DESTINATION: S,
                CONF_CONNECT_TO: D,
                CONF_WAIT: True,
                CONF_CIDNAME: "Alarm",
            },
            (S, D),
            id="source_every_field",
        ),
        pytest.param(
            {CONF_SOURCE: S, CONF_DESTINATION: D, CONF_REVERSE: True},
            {
                CONF_RING_FIRST: RING_CONTACT_NUMBER,
                CONF_DESTINATION: S,
                CONF_CONNECT_TO: D,
            },
            (S, D),
            id="source_and_reverse",
        ),
        pytest.param(
            {CONF_REVERSE: True, CONF_DESTINATION: D, CONF_WAIT: False},
            {
                CONF_RING_FIRST: RING_CONTACT_NUMBER,
                CONF_DESTINATION: D,
                CONF_WAIT: False,
            },
            (D, EXTENSION),
            id="reverse",
        ),
        pytest.param(
            {
                CONF_REVERSE: True,
                CONF_DESTINATION: D,
                CONF_EXTENSION: OTHER_EXTENSION,
                CONF_CIDNAME: "Mum calling",
            },
            {
                CONF_RING_FIRST: RING_CONTACT_NUMBER,
                CONF_DESTINATION: D,
                CONF_CONNECT_TO: OTHER_EXTENSION,
                CONF_CIDNAME: "Mum calling",
            },
            (D, OTHER_EXTENSION),
            id="reverse_own_extension",
        ),
    ],
)
async def test_migrate_contact(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator: Simulator,
    *,
    old: dict[str, Any],
    new: dict[str, Any],
    legs: tuple[str, str],
) -> None:
    """An older contact becomes the kind that rings the same phones in the same order."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        minor_version=1,
        title=f"Extension {EXTENSION}",
        unique_id=EXTENSION,
        data={
            CONF_API_TOKEN: ALL_TOKEN,
            CONF_EXTENSION: EXTENSION,
            CONF_URL: simulator.url,
        },
        options={CONF_COOLDOWN: 0},
        subentries_data=[
            ConfigSubentryData(
                data=old, subentry_type=SUBENTRY_CONTACT, title="Old", unique_id=None
            )
        ],
    )
    subentry_id = contact_id(entry, "Old")

    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    assert dict(entry.subentries[subentry_id].data) == new
    assert entry.subentries[subentry_id].title == "Old"
    minor_version, saved = await saved_contacts(hass, hass_storage, entry)
    assert minor_version == 2
    assert saved == {"Old": new}
    kind = new[CONF_RING_FIRST]
    device = entry_device(hass, entry, subentry_id)
    assert device is not None
    assert device.model == MODELS[kind]
    assert set(contact_entities(hass, subentry_id)) == expected_entities("Old", kind)

    # What the contact's button sent before: its stored fields, as a call.
    await place_call(hass, old)
    # What it sends now.
    await press(hass, "button.old_call")

    before, after = simulator.calls
    assert simulator.legs(before) == simulator.legs(after) == legs
    assert simulator.rung_first == [legs[0], legs[0]]
    assert after.get("cidname") == before.get("cidname")
    assert after["wait"] == before["wait"]


async def test_migrate_several_contacts(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Every contact of an older entry is migrated; an entry without any just moves on."""
    old = {
        "Door": {CONF_DESTINATION: "2001", CONF_REVERSE: False, CONF_WAIT: False},
        "Mum": {CONF_DESTINATION: D, CONF_REVERSE: True, CONF_WAIT: True},
    }
    entry = MockConfigEntry(
        domain=DOMAIN,
        minor_version=1,
        title=f"Extension {EXTENSION}",
        unique_id=EXTENSION,
        data={
            CONF_API_TOKEN: ALL_TOKEN,
            CONF_EXTENSION: EXTENSION,
            CONF_URL: simulator.url,
        },
        subentries_data=[
            ConfigSubentryData(
                data=data, subentry_type=SUBENTRY_CONTACT, title=name, unique_id=None
            )
            for name, data in old.items()
        ],
    )
    empty = MockConfigEntry(
        domain=DOMAIN,
        minor_version=1,
        title=f"Extension {OTHER_EXTENSION}",
        unique_id=OTHER_EXTENSION,
        data={
            CONF_API_TOKEN: ALL_TOKEN,
            CONF_EXTENSION: OTHER_EXTENSION,
            CONF_URL: simulator.url,
        },
    )

    await setup_entry(hass, entry)
    await setup_entry(hass, empty)

    assert {
        subentry.title: dict(subentry.data) for subentry in entry.subentries.values()
    } == {
        "Door": {
            CONF_RING_FIRST: RING_MY_EXTENSION,
            CONF_DESTINATION: "2001",
            CONF_WAIT: False,
        },
        "Mum": {
            CONF_RING_FIRST: RING_CONTACT_NUMBER,
            CONF_DESTINATION: D,
            CONF_WAIT: True,
        },
    }
    assert set(contact_entities(hass, contact_id(entry, "Door"))) == {
        "button.door_call"
    }
    assert hass.states.get("notify.mum") is not None
    assert empty.state is ConfigEntryState.LOADED
    assert empty.minor_version == 2
    assert simulator.calls == []


async def test_migrate_newer_major_version(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """An entry saved by a newer major version is left alone and not set up."""
    old = {CONF_DESTINATION: D, CONF_REVERSE: True}
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=2,
        minor_version=1,
        title=f"Extension {EXTENSION}",
        unique_id=EXTENSION,
        data={
            CONF_API_TOKEN: ALL_TOKEN,
            CONF_EXTENSION: EXTENSION,
            CONF_URL: simulator.url,
        },
        subentries_data=[
            ConfigSubentryData(
                data=old, subentry_type=SUBENTRY_CONTACT, title="Old", unique_id=None
            )
        ],
    )
    entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    # Refused by the integration itself too (2026.x core refuses it before asking).
    assert await async_migrate_entry(hass, entry) is False
    assert (entry.version, entry.minor_version) == (2, 1)
    assert dict(entry.subentries[contact_id(entry, "Old")].data) == old
    assert hass.states.get("button.old_call") is None
    assert simulator.requests == []


async def test_newer_minor_version_loads_as_it_is(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """An entry saved by a newer minor version of this major one loads unchanged."""
    contact = {
        CONF_RING_FIRST: RING_CONTACT_EXTENSION,
        CONF_DESTINATION: OTHER_EXTENSION,
        CONF_WAIT: False,
    }
    entry = MockConfigEntry(
        domain=DOMAIN,
        minor_version=3,
        title=f"Extension {EXTENSION}",
        unique_id=EXTENSION,
        data={
            CONF_API_TOKEN: ALL_TOKEN,
            CONF_EXTENSION: EXTENSION,
            CONF_URL: simulator.url,
        },
        subentries_data=[
            ConfigSubentryData(
                data=contact,
                subentry_type=SUBENTRY_CONTACT,
                title="Desk",
                unique_id=None,
            )
        ],
    )

    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == 3
    assert dict(entry.subentries[contact_id(entry, "Desk")].data) == contact
    await press(hass, "button.desk_call")
    assert simulator.rung_first == [OTHER_EXTENSION]
