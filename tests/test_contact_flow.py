"""Contact subentry flow: add, errors, duplicate names, reconfigure, delete, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spectronics_voip.config_flow import CONTACT_VALIDATORS
from custom_components.spectronics_voip.const import (
    CONF_CIDNAME,
    CONF_DESTINATION,
    CONF_EXTENSION,
    CONF_REVERSE,
    CONF_SOURCE,
    CONF_WAIT,
    MANUFACTURER,
    SUBENTRY_CONTACT,
)
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .common import (
    EXCEPTIONS,
    TRANSLATIONS,
    contact_id,
    entry_device,
    make_entry,
    place_call,
    until,
)
from .simulator import ALL_TOKEN, EXTENSION, OTHER_EXTENSION, Simulator

STRINGS: dict[str, Any] = TRANSLATIONS["config_subentries"][SUBENTRY_CONTACT]
LAST_CALL = "event.extension_1234567_last_call"
MUM = {CONF_DESTINATION: "07700900123", CONF_CIDNAME: "Mum calling"}
DAD = {
    CONF_DESTINATION: "07700900456",
    CONF_SOURCE: "+442079460000",
    CONF_EXTENSION: OTHER_EXTENSION,
}


@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """Return the entry for extension 1234567 with two contacts, Mum and Dad."""
    return make_entry(simulator.url, contacts={"Mum": MUM, "Dad": DAD})


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry against the simulator."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def assert_translated(result: Mapping[str, Any]) -> None:
    """Check the step, its fields, errors and abort reason are all in en.json."""
    if result["type"] is FlowResultType.ABORT:
        assert result["reason"] in STRINGS["abort"]
        return
    assert result["type"] is FlowResultType.FORM
    step = STRINGS["step"][result["step_id"]]
    fields = {str(key) for key in result["data_schema"].schema}
    assert fields == set(step["data"]) == set(step["data_description"])
    for field, error in (result["errors"] or {}).items():
        assert field in fields
        assert error in STRINGS["error"]


def suggested(result: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values a form suggests, by field."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def contact_input(**changes: Any) -> dict[str, Any]:
    """Return valid input for the contact form, with some fields changed."""
    return {
        CONF_NAME: "Front door",
        CONF_DESTINATION: "07700 900-789",
        CONF_WAIT: False,
        CONF_REVERSE: False,
        **changes,
    }


async def start_flow(hass: HomeAssistant, entry: MockConfigEntry) -> SubentryFlowResult:
    """Start adding a contact and check the empty form."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CONTACT), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert_translated(result)
    return result


async def start_reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, name: str
) -> SubentryFlowResult:
    """Start changing the contact with this name and check its form."""
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


async def configure(
    result: SubentryFlowResult, hass: HomeAssistant, data: Mapping[str, Any]
) -> SubentryFlowResult:
    """Submit the form of a contact flow."""
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], dict(data)
    )


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


async def press(hass: HomeAssistant, entity_id: str) -> None:
    """Press a Call button and wait for the call."""
    await hass.services.async_call(
        "button", "press", {"entity_id": entity_id}, blocking=True
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
            {CONF_DESTINATION: "01632960001", CONF_WAIT: True},
            return_response=True,
        )
    )


@pytest.mark.parametrize(
    ("user_input", "title", "data"),
    [
        pytest.param(
            contact_input(
                name="  Front \t door ",
                destination=" 07700 900-789 ",
                cidname="",
                source="  ",
                extension="",
                wait=True,
                reverse=True,
            ),
            "Front door",
            {CONF_DESTINATION: "07700900789", CONF_WAIT: True, CONF_REVERSE: True},
            id="empty_optional_fields",
        ),
        pytest.param(
            contact_input(
                destination="(07700) 900.789",
                cidname=" Front door ",
                source="+44 20 7946-0000",
                extension=f" {OTHER_EXTENSION} ",
            ),
            "Front door",
            {
                CONF_DESTINATION: "07700900789",
                CONF_CIDNAME: "Front door",
                CONF_SOURCE: "+442079460000",
                CONF_EXTENSION: OTHER_EXTENSION,
                CONF_WAIT: False,
                CONF_REVERSE: False,
            },
            id="every_field",
        ),
    ],
)
async def test_create_contact(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    *,
    user_input: dict[str, Any],
    title: str,
    data: dict[str, Any],
) -> None:
    """A new contact is stored normalized; its device and entities appear, no reload."""
    entry = init_integration
    dialer = entry.runtime_data
    checks = len(simulator.requests)
    call = start_slow_call(hass, simulator)
    await until(lambda: simulator.in_flight)
    result = await start_flow(hass, entry)

    result = await configure(result, hass, user_input)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == title
    assert result["data"] == data
    [subentry] = [s for s in entry.subentries.values() if s.title == title]
    assert subentry.subentry_type == SUBENTRY_CONTACT
    assert dict(subentry.data) == data
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
    assert set(entities) == {"button.front_door_call", "notify.front_door"}
    device = entry_device(hass, entry, subentry.subentry_id)
    assert device is not None
    account = entry_device(hass, entry)
    assert account is not None
    assert device.name == title
    assert device.manufacturer == MANUFACTURER == "Spectronics"
    assert device.via_device_id == account.id
    assert device_subentries(device) == {entry.entry_id: {subentry.subentry_id}}
    for entity_id, entity in entities.items():
        assert entity.device_id == device.id
        assert entity.config_entry_id == entry.entry_id
        assert entity.unique_id.startswith(f"{entry.entry_id}_{subentry.subentry_id}_")
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state != STATE_UNAVAILABLE
    # The other contacts' entities are still there, untouched.
    assert hass.states.get("button.mum_call") is not None
    assert hass.states.get("notify.dad") is not None

    # The new button places the stored call, as typed in the form.
    simulator.ring_time = 0.0
    await press(hass, "button.front_door_call")
    fields = simulator.calls[-1]
    assert fields["destination"] == data[CONF_DESTINATION]
    assert fields["extension"] == data.get(CONF_EXTENSION, EXTENSION)
    assert fields.get("source") == data.get(CONF_SOURCE)
    assert fields.get("cidname") == data.get(CONF_CIDNAME)
    assert fields["reverse"] == str(int(data[CONF_REVERSE]))
    assert fields["auth"] == ALL_TOKEN


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        pytest.param({CONF_NAME: ""}, {CONF_NAME: "invalid_name"}, id="name_empty"),
        pytest.param(
            {CONF_NAME: " \t\n "}, {CONF_NAME: "invalid_name"}, id="name_whitespace"
        ),
        pytest.param(
            {CONF_DESTINATION: ""},
            {CONF_DESTINATION: "invalid_destination"},
            id="destination_empty",
        ),
        pytest.param(
            {CONF_DESTINATION: "07700 CALL ME"},
            {CONF_DESTINATION: "invalid_destination"},
            id="destination_letters",
        ),
        pytest.param(
            {CONF_DESTINATION: "0" * 33},
            {CONF_DESTINATION: "invalid_destination"},
            id="destination_too_long",
        ),
        pytest.param(
            {CONF_DESTINATION: "0770+0900"},
            {CONF_DESTINATION: "invalid_destination"},
            id="destination_inner_plus",
        ),
        pytest.param(
            {CONF_SOURCE: "sip:me@example.com"},
            {CONF_SOURCE: "invalid_source"},
            id="source_letters",
        ),
        pytest.param(
            {CONF_EXTENSION: "123456"},
            {CONF_EXTENSION: "invalid_extension"},
            id="extension_short",
        ),
        pytest.param(
            {CONF_EXTENSION: "12345678"},
            {CONF_EXTENSION: "invalid_extension"},
            id="extension_long",
        ),
        pytest.param(
            {CONF_EXTENSION: "12a4567"},
            {CONF_EXTENSION: "invalid_extension"},
            id="extension_letter",
        ),
        pytest.param(
            {CONF_CIDNAME: "Front\ndoor"},
            {CONF_CIDNAME: "invalid_cidname"},
            id="cidname_newline",
        ),
        pytest.param(
            {CONF_CIDNAME: "Ring\x07ring"},
            {CONF_CIDNAME: "invalid_cidname"},
            id="cidname_bell",
        ),
        pytest.param(
            {CONF_CIDNAME: "x" * 41},
            {CONF_CIDNAME: "invalid_cidname"},
            id="cidname_too_long",
        ),
        pytest.param(
            {
                CONF_NAME: "  ",
                CONF_DESTINATION: "nope",
                CONF_SOURCE: "nope",
                CONF_EXTENSION: "1",
                CONF_CIDNAME: "\x00",
            },
            {
                CONF_NAME: "invalid_name",
                CONF_DESTINATION: "invalid_destination",
                CONF_SOURCE: "invalid_source",
                CONF_EXTENSION: "invalid_extension",
                CONF_CIDNAME: "invalid_cidname",
            },
            id="every_field_at_once",
        ),
    ],
)
async def test_create_error_then_recovery(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    *,
    changes: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Each field error re-shows the form with what was typed; a fix creates it."""
    entry = init_integration
    before = set(entry.subentries)
    requests = len(simulator.requests)
    user_input = contact_input(**changes)
    result = await start_flow(hass, entry)

    result = await configure(result, hass, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    assert_translated(result)
    assert suggested(result) == user_input
    assert set(entry.subentries) == before
    assert len(simulator.requests) == requests

    result = await configure(result, hass, contact_input())
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Front door"
    assert result["data"] == {
        CONF_DESTINATION: "07700900789",
        CONF_WAIT: False,
        CONF_REVERSE: False,
    }
    assert len(entry.subentries) == len(before) + 1
    assert hass.states.get("button.front_door_call") is not None
    assert simulator.calls == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (CONF_DESTINATION, "07700 CALL ME"),
        (CONF_SOURCE, "sip:me@example.com"),
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
    """A bad value gets the same key and the same text in the form as in the action."""
    with pytest.raises(ServiceValidationError) as exc_info:
        await place_call(hass, {CONF_DESTINATION: "07700900789", field: value})
    action_error = exc_info.value
    result = await start_flow(hass, init_integration)

    result = await configure(result, hass, contact_input(**{field: value}))

    assert result["errors"] == {field: action_error.translation_key}
    text = STRINGS["error"][action_error.translation_key]
    assert text == EXCEPTIONS[action_error.translation_key]["message"]
    assert str(action_error) == text.rstrip(".")
    assert simulator.calls == []


def test_error_texts_are_the_actions() -> None:
    """Every validator's error has one text, shared by the form and the action."""
    keys = {f"invalid_{field}" for field in CONTACT_VALIDATORS}
    assert keys == {
        "invalid_destination",
        "invalid_source",
        "invalid_extension",
        "invalid_cidname",
    }
    for key in keys:
        assert STRINGS["error"][key] == EXCEPTIONS[key]["message"]
        assert STRINGS["error"][key]


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

    result = await configure(result, hass, contact_input(name=name))

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "name_in_use"}
    assert_translated(result)
    assert suggested(result)[CONF_NAME] == name
    assert len(entry.subentries) == 1

    result = await configure(result, hass, contact_input(name="Grandma"))

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Grandma"
    assert {s.title for s in entry.subentries.values()} == {taken, "Grandma"}


async def test_create_name_used_by_another_account(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Names are unique per account: another account may have its own Mum."""
    other = make_entry(simulator.url, extension=OTHER_EXTENSION)
    await setup_entry(hass, other)
    result = await start_flow(hass, other)

    result = await configure(result, hass, contact_input(name="Mum"))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert [s.title for s in other.subentries.values()] == ["Mum"]
    assert len(contact_entities(hass, contact_id(other, "Mum"))) == 2
    assert hass.states.get("button.mum_call") is not None


@pytest.mark.parametrize(
    ("options", "wait"),
    [({}, False), ({CONF_WAIT: False}, False), ({CONF_WAIT: True}, True)],
)
async def test_form_wait_follows_the_account(
    hass: HomeAssistant, simulator: Simulator, options: dict[str, Any], wait: bool
) -> None:
    """The new contact's `wait` starts as the account's own `wait` option."""
    entry = make_entry(simulator.url, options=options)
    await setup_entry(hass, entry)

    result = await start_flow(hass, entry)

    assert suggested(result) == {CONF_WAIT: wait}


async def test_every_field_has_a_description(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Both steps describe each field they show, with a label and a description."""
    results = [
        await start_flow(hass, init_integration),
        await start_reconfigure(hass, init_integration, "Mum"),
    ]

    for result in results:
        step = STRINGS["step"][result["step_id"]]
        fields = {str(key) for key in result["data_schema"].schema}
        assert fields == {
            CONF_NAME,
            CONF_DESTINATION,
            CONF_CIDNAME,
            CONF_WAIT,
            CONF_REVERSE,
            CONF_SOURCE,
            CONF_EXTENSION,
        }
        for field in fields:
            assert step["data"][field].strip()
            assert step["data_description"][field].strip()
        assert step["title"]
        assert step["description"]


async def test_reconfigure(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A new number and name apply to the next call; entities and their ids stay."""
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
    assert simulator.calls[-1]["destination"] == "07700900123"
    assert simulator.calls[-1]["cidname"] == "Mum calling"

    result = await start_reconfigure(hass, entry, "Mum")
    assert suggested(result) == {
        CONF_NAME: "Mum",
        CONF_WAIT: False,
        CONF_REVERSE: False,
        **MUM,
    }
    checks = len(simulator.requests)
    call = start_slow_call(hass, simulator)
    await until(lambda: simulator.in_flight)

    result = await configure(
        result,
        hass,
        {
            CONF_NAME: " Mother ",
            CONF_DESTINATION: "07700 900 999",
            CONF_WAIT: True,
            CONF_REVERSE: True,
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
        CONF_DESTINATION: "07700900999",
        CONF_WAIT: True,
        CONF_REVERSE: True,
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
    state = hass.states.get("button.mum_call")
    assert state is not None
    assert state.attributes["friendly_name"] == "Mother Call"

    simulator.ring_time = 0.0
    await press(hass, "button.mum_call")
    assert simulator.calls[-1]["destination"] == "07700900999"
    assert simulator.calls[-1]["reverse"] == "1"
    assert simulator.calls[-1]["wait"] == "1"
    assert "cidname" not in simulator.calls[-1]
    await hass.services.async_call(
        "notify",
        "send_message",
        {"entity_id": "notify.mum", "message": "Dinner"},
        blocking=True,
    )
    assert simulator.calls[-1]["destination"] == "07700900999"
    assert simulator.calls[-1]["cidname"] == "Dinner"


@pytest.mark.parametrize("name", ["Mum", "mum", "  MUM "])
async def test_reconfigure_keeping_the_name(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    name: str,
) -> None:
    """A contact's own name, in any case or spacing, is not a duplicate."""
    entry = init_integration
    subentry_id = contact_id(entry, "Mum")
    result = await start_reconfigure(hass, entry, "Mum")

    result = await configure(
        result, hass, {**suggested(result), CONF_NAME: name, CONF_DESTINATION: "999"}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry_id].title == " ".join(name.split())
    assert entry.subentries[subentry_id].data[CONF_DESTINATION] == "999"


async def test_reconfigure_to_another_contacts_name_then_recovery(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Renaming Mum to Dad is name_in_use; nothing changes until the name is fixed."""
    entry = init_integration
    subentry_id = contact_id(entry, "Mum")
    result = await start_reconfigure(hass, entry, "Mum")
    user_input = {**suggested(result), CONF_NAME: " dad "}

    result = await configure(result, hass, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_NAME: "name_in_use"}
    assert_translated(result)
    assert suggested(result) == user_input
    assert entry.subentries[subentry_id].title == "Mum"

    result = await configure(result, hass, {**user_input, CONF_NAME: "Mother"})

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry_id].title == "Mother"
    assert dict(entry.subentries[subentry_id].data) == {
        CONF_WAIT: False,
        CONF_REVERSE: False,
        **MUM,
    }


async def test_reconfigure_error_then_recovery(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A bad number on the change form keeps the contact as it was until fixed."""
    entry = init_integration
    subentry_id = contact_id(entry, "Dad")
    stored = dict(entry.subentries[subentry_id].data)
    result = await start_reconfigure(hass, entry, "Dad")
    user_input = {**suggested(result), CONF_DESTINATION: "dad's mobile"}

    result = await configure(result, hass, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_DESTINATION: "invalid_destination"}
    assert suggested(result) == user_input
    assert dict(entry.subentries[subentry_id].data) == stored

    result = await configure(
        result, hass, {**user_input, CONF_DESTINATION: "07700 900 111"}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.subentries[subentry_id].data) == {
        **stored,
        CONF_DESTINATION: "07700900111",
    }
    await press(hass, "button.dad_call")
    assert simulator.calls[-1]["destination"] == "07700900111"
    assert simulator.calls[-1]["source"] == DAD[CONF_SOURCE]
    assert simulator.calls[-1]["extension"] == OTHER_EXTENSION


async def test_delete_contact(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Deleting a contact removes its device and entities, and nothing else."""
    entry = init_integration
    dialer = entry.runtime_data
    mum_id = contact_id(entry, "Mum")
    dad_id = contact_id(entry, "Dad")
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
    # The account, its Last call, and the other contact stay, without a reload.
    assert devices.async_get(account.id) is not None
    assert devices.async_get(dad.id) is not None
    assert set(contact_entities(hass, dad_id)) == {"button.dad_call", "notify.dad"}
    last_call = registry.async_get(LAST_CALL)
    assert last_call is not None
    assert last_call.device_id == account.id
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.state != STATE_UNAVAILABLE
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is dialer
    assert len(simulator.requests) == requests

    await press(hass, "button.dad_call")
    assert simulator.calls[-1]["destination"] == DAD[CONF_DESTINATION]

    # A contact added afterwards with the deleted one's name gets fresh entities.
    result = await start_flow(hass, entry)
    result = await configure(result, hass, contact_input(name="Mum"))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert set(contact_entities(hass, contact_id(entry, "Mum"))) == mum_entities
