"""Contacts' Call buttons and notify entities, the "Last call" entity, over real HTTP."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.spectronics_voip.api import MAX_CIDNAME_LENGTH
from custom_components.spectronics_voip.const import DOMAIN, EVENT_CALL_RESULT
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNKNOWN
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .common import LAST_CALL, contact_id, entry_device, make_entry, place_call
from .simulator import EXTENSION, OTHER_EXTENSION, Simulator

MUM = "07700900123"
DOOR = "2001"
GRAN = OTHER_EXTENSION
# One contact of each kind: Mum's number rings first, then your extension; Front
# door is quick dial (your extension first); Gran's own extension rings first.
CONTACTS: dict[str, dict[str, Any]] = {
    "Mum": {"destination": MUM, "ring_first": "contact_number"},
    "Front door": {"destination": DOOR, "cidname": "FRONT DOOR", "wait": True},
    "Gran": {
        "destination": GRAN,
        "ring_first": "contact_extension",
        "cidname": "FROM HOME",
        "wait": True,
    },
}


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Use Home Assistant's serializer and its tests/snapshots folder on every version."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """Return an account with two contacts."""
    return make_entry(simulator.url, contacts=CONTACTS)


async def _press(
    hass: HomeAssistant, entity_id: str, context: Context | None = None
) -> None:
    """Press a button and wait for its call."""
    await hass.services.async_call(
        "button",
        "press",
        {ATTR_ENTITY_ID: entity_id},
        blocking=True,
        context=context,
    )


async def _notify(
    hass: HomeAssistant,
    entity_id: str,
    message: str,
    title: str | None = None,
    context: Context | None = None,
) -> None:
    """Send a message to a notify entity and wait for its call."""
    data = {ATTR_ENTITY_ID: entity_id, "message": message}
    if title is not None:
        data["title"] = title
    await hass.services.async_call(
        "notify", "send_message", data, blocking=True, context=context
    )


def _registry_view(
    hass: HomeAssistant, entry: MockConfigEntry
) -> dict[str, dict[str, Any]]:
    """Return each entity's registry entry, device and state, in stable terms.

    Home Assistant's own registry snapshots differ between 2025.4 and 2026.x; this
    keeps what the integration decides, with ids spelled as what they stand for.
    """
    names = {entry.entry_id: "<entry>"} | {
        subentry_id: f"<{subentry.title}>"
        for subentry_id, subentry in entry.subentries.items()
    }

    def spell(text: str) -> str:
        for raw, name in names.items():
            text = text.replace(raw, name)
        return text

    device_registry = dr.async_get(hass)
    view: dict[str, dict[str, Any]] = {}
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        device = device_registry.async_get(entity.device_id or "")
        assert device is not None
        via = device_registry.async_get(device.via_device_id or "")
        state = hass.states.get(entity.entity_id)
        assert state is not None
        view[entity.entity_id] = {
            "unique_id": spell(entity.unique_id),
            "config_subentry": spell(entity.config_subentry_id or "") or None,
            "has_entity_name": entity.has_entity_name,
            "original_name": entity.original_name,
            "translation_key": entity.translation_key,
            "entity_category": entity.entity_category,
            "capabilities": {
                str(key): value for key, value in (entity.capabilities or {}).items()
            },
            "supported_features": int(entity.supported_features),
            "device": {
                "identifiers": sorted(
                    (domain, spell(key)) for domain, key in device.identifiers
                ),
                "name": device.name,
                "manufacturer": device.manufacturer,
                "model": device.model,
                "entry_type": device.entry_type,
                "configuration_url": device.configuration_url,
                "via_device": via.name if via else None,
            },
            "state": state.state,
            "attributes": {str(key): value for key, value in state.attributes.items()},
        }
    return view


async def test_entities_and_devices(
    hass: HomeAssistant, init_integration: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """Every entity and device of an account with three contacts, as registered.

    Quick-dial Front door has no notify entity: its message would show on your own
    extension.
    """
    view = _registry_view(hass, init_integration)

    assert sorted(view) == [
        "button.extension_1234567_stop_calls",
        "button.front_door_call",
        "button.gran_call",
        "button.mum_call",
        LAST_CALL,
        "notify.gran",
        "notify.mum",
        "sensor.extension_1234567_calls_in_the_last_hour",
        "sensor.extension_1234567_calls_today",
    ]
    assert {entity["unique_id"] for entity in view.values()} == {
        "<entry>_last_call",
        "<entry>_stop_calls",
        "<entry>_calls_today",
        "<entry>_calls_last_hour",
        "<entry>_<Mum>_call",
        "<entry>_<Mum>_notify",
        "<entry>_<Front door>_call",
        "<entry>_<Gran>_call",
        "<entry>_<Gran>_notify",
    }
    assert view == snapshot


async def test_entity_ids_survive_a_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A reload keeps every entity id, unique id and device."""
    before = _registry_view(hass, init_integration)

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()

    assert _registry_view(hass, init_integration) == before
    assert entry_device(hass, init_integration) is not None


async def test_press_places_the_contacts_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A press sends the contact's call once and reports it like the action does.

    Mum's number rings first (as the source); once she answers she is connected to
    the account's extension.
    """
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    context = Context()

    await _press(hass, "button.mum_call", context)

    assert simulator.calls == [
        {
            "auth": simulator.calls[0]["auth"],
            "extension": EXTENSION,
            "destination": EXTENSION,
            "source": MUM,
            "reverse": "0",
            "wait": "0",
        }
    ]
    assert simulator.rung_first == [MUM]
    [event] = events
    assert event.context is context
    # The logbook files the call under the account's Last call and Mum's device.
    mum = entry_device(hass, init_integration, contact_id(init_integration, "Mum"))
    assert mum is not None
    assert event.data == {
        "entity_id": LAST_CALL,
        "device_id": mum.id,
        "config_entry_id": init_integration.entry_id,
        "contact": "Mum",
        "ring_first": "contact_number",
        "extension": EXTENSION,
        "destination": EXTENSION,
        "source": MUM,
        "cidname": None,
        "reverse": False,
        "wait": False,
        "rings_first": MUM,
        "suppressed": False,
        "success": True,
        "message": "Call request sent",
        "error": None,
    }
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.state != STATE_UNKNOWN
    assert state.attributes["event_type"] == "requested"
    assert state.attributes["contact"] == "Mum"
    assert state.attributes["rings_first"] == MUM
    assert state.attributes["message"] == "Call request sent"
    assert state.attributes["error"] is None
    assert "config_entry_id" not in state.attributes
    assert state.context is context
    assert hass.states.get("button.mum_call").state != STATE_UNKNOWN  # type: ignore[union-attr]


async def test_press_with_wait_is_answered(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Quick dial with wait: answered means your extension answered; own caller name."""
    await _press(hass, "button.front_door_call")

    [call] = simulator.calls
    assert call["destination"] == DOOR
    assert call["cidname"] == "FRONT DOOR"
    assert call["wait"] == "1"
    assert simulator.rung_first == [EXTENSION]
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "answered"
    assert state.attributes["contact"] == "Front door"
    assert state.attributes["ring_first"] == "my_extension"
    assert state.attributes["rings_first"] == EXTENSION
    assert state.attributes["message"] == "Call answered"


async def test_press_rings_their_extension_first(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Gran's extension rings first, then the account's; wait reports her answer."""
    simulator.phones[EXTENSION] = "timeout"  # nobody at home: it does not matter

    await _press(hass, "button.gran_call")

    [call] = simulator.calls
    assert (call["extension"], call["destination"]) == (GRAN, EXTENSION)
    assert call["cidname"] == "FROM HOME"
    assert simulator.rung_first == [GRAN]
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "answered"
    assert state.attributes["rings_first"] == GRAN


@pytest.mark.parametrize(
    ("contact", "key", "message"),
    [
        (
            {"destination": "2001486", "wait": True, "ring_first": "contact_number"},
            "call_failed_api",
            "Call rejected",
        ),
        (
            {"destination": "2001408", "wait": True, "ring_first": "contact_number"},
            "call_failed_api",
            "Call timed out",
        ),
    ],
    ids=["rejected", "timed-out"],
)
async def test_press_that_fails_raises_and_reports(
    hass: HomeAssistant,
    simulator: Simulator,
    contact: dict[str, Any],
    key: str,
    message: str,
) -> None:
    """A failed press raises the action's error, fires the event, shows failed."""
    entry = make_entry(simulator.url, contacts={"Gate": contact})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    with pytest.raises(HomeAssistantError) as exc_info:
        await _press(hass, "button.gate_call")

    assert exc_info.value.translation_domain == DOMAIN
    assert exc_info.value.translation_key == key
    assert exc_info.value.translation_placeholders == {"message": message}
    assert len(simulator.calls) == 1
    [event] = events
    assert event.data["success"] is False
    assert event.data["contact"] == "Gate"
    assert event.data["error"] == "api"
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "failed"
    assert state.attributes["error"] == "api"
    assert state.attributes["message"] == message


async def test_press_when_the_provider_is_down(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A press that cannot reach the provider fails with the connection error."""
    simulator.set_fault("drop")

    with pytest.raises(HomeAssistantError) as exc_info:
        await _press(hass, "button.mum_call")

    assert exc_info.value.translation_key == "call_failed_connection"
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "failed"
    assert state.attributes["error"] == "connection"
    assert init_integration.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("message", "title", "sent"),
    [
        pytest.param("Dinner is ready", None, "Dinner is ready", id="message"),
        pytest.param("Dinner is ready", "DINNER", "DINNER", id="title-wins"),
        pytest.param("Dinner is ready", "", "Dinner is ready", id="empty-title"),
        pytest.param(
            "The washing machine has finished its cycle, please empty it",
            None,
            "The washing machine has finished its",
            id="cut-at-a-word",
        ),
        pytest.param(
            "Alarm:\tkitchen\r\n\x00smoke\x1b[31m  detected\u200b!",
            None,
            "Alarm: kitchen smoke [31m detected !",
            id="control-characters",
        ),
        pytest.param(
            "🔥 Fire in the 🏠 kitchen", None, "🔥 Fire in the 🏠 kitchen", id="emoji"
        ),
        pytest.param(
            "x" * 10_000, None, "x" * MAX_CIDNAME_LENGTH, id="10000-characters"
        ),
        pytest.param(
            "word " * 2_000, None, " ".join(["word"] * 8), id="10000-characters-words"
        ),
        pytest.param("\x00\x07 \t\n", None, None, id="nothing-printable"),
    ],
)
async def test_notify_shows_the_message_as_caller_name(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    *,
    message: str,
    title: str | None,
    sent: str | None,
) -> None:
    """The text is cleaned and cut to a caller name; the event shows what was sent."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    context = Context()

    await _notify(hass, "notify.mum", message, title, context)

    [call] = simulator.calls
    assert call["source"] == MUM
    assert call.get("cidname") == sent
    [event] = events
    assert event.context is context
    assert event.data["contact"] == "Mum"
    assert event.data["cidname"] == sent
    assert len(sent or "") <= MAX_CIDNAME_LENGTH
    state = hass.states.get("notify.mum")
    assert state is not None
    assert state.state != STATE_UNKNOWN


async def test_notify_falls_back_to_the_contacts_caller_name(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A message with nothing printable shows the contact's own caller name."""
    await _notify(hass, "notify.gran", "\u200b\u200b")

    [call] = simulator.calls
    assert call["cidname"] == "FROM HOME"


async def test_notify_failure_raises(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A notify whose call fails raises the action's translated error."""
    simulator.set_fault("http503")
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    with pytest.raises(HomeAssistantError) as exc_info:
        await _notify(hass, "notify.mum", "Hello")

    assert exc_info.value.translation_key == "call_failed_invalid_response"
    [event] = events
    assert event.data["error"] == "invalid_response"
    assert event.data["cidname"] == "Hello"
    assert hass.states.get(LAST_CALL).attributes["event_type"] == "failed"  # type: ignore[union-attr]


async def test_last_call_follows_every_path(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The action, a button and a notify all update "Last call", in order."""
    seen: list[tuple[str, str | None, str]] = []

    def record() -> None:
        state = hass.states.get(LAST_CALL)
        assert state is not None
        attributes = state.attributes
        seen.append(
            (attributes["event_type"], attributes["contact"], attributes["destination"])
        )

    await place_call(hass, {"destination": "0800 123"})
    record()
    await _press(hass, "button.front_door_call")
    record()
    await _notify(hass, "notify.mum", "Hi")
    record()
    with pytest.raises(HomeAssistantError):
        await place_call(
            hass, {"source": "123486", "destination": "0800 456", "wait": True}
        )
    record()

    assert seen == [
        ("requested", None, "0800123"),
        ("answered", "Front door", DOOR),
        ("requested", "Mum", EXTENSION),
        ("failed", None, "0800456"),
    ]
    assert len(simulator.calls) == 4


async def test_last_call_survives_a_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """After a reload, "Last call" shows the same call, attributes and all."""
    await _press(hass, "button.front_door_call")
    before = hass.states.get(LAST_CALL)
    assert before is not None

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()

    after = hass.states.get(LAST_CALL)
    assert after is not None
    assert after.state == before.state
    assert after.attributes == before.attributes
    assert after.attributes["event_type"] == "answered"


async def test_unload_leaves_entities_unavailable_and_refuses_presses(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """An unloaded account's entities are unavailable; a press sends nothing."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    for entity_id in ("button.mum_call", "notify.mum", LAST_CALL):
        assert hass.states.get(entity_id).state == "unavailable"  # type: ignore[union-attr]
    await _press(hass, "button.mum_call")
    assert simulator.calls == []


async def test_reconfigured_contact_applies_to_the_next_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A changed contact is used by the next press, with no reload."""
    subentry = init_integration.subentries[contact_id(init_integration, "Mum")]
    requests = len(simulator.requests)

    hass.config_entries.async_update_subentry(
        init_integration,
        subentry,
        title="Mother",
        data={**subentry.data, "destination": "07700900999"},
    )
    await hass.async_block_till_done()
    await _press(hass, "button.mum_call")

    assert simulator.calls[-1]["source"] == "07700900999"
    assert len(simulator.requests) == requests + 1  # no credentials check: no reload
    assert hass.states.get(LAST_CALL).attributes["contact"] == "Mother"  # type: ignore[union-attr]
    state = hass.states.get("button.mum_call")
    assert state is not None
    assert state.attributes["friendly_name"] == "Mother Call"


async def test_calls_are_logged_at_debug(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each call's outcome is one debug line, success and failure alike."""
    caplog.set_level(logging.DEBUG, logger="custom_components.spectronics_voip")

    await _press(hass, "button.mum_call")
    simulator.set_fault("http500")
    with pytest.raises(HomeAssistantError):
        await _notify(hass, "notify.gran", "Hello")

    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == "custom_components.spectronics_voip"
    ]
    assert lines == [
        (
            f"Call ringing {MUM} first, then {EXTENSION} (contact Mum, wait False):"
            " success, Call request sent"
        ),
        (
            f"Call ringing {GRAN} first, then {EXTENSION} (contact Gran, wait True):"
            " invalid_response, unexpected HTTP status 500"
        ),
    ]
