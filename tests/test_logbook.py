"""The logbook describes every call, as the logbook panel and card show it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.spectronics_voip.const import DOMAIN, EVENT_CALL_RESULT
from homeassistant.components.recorder import Recorder
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import LAST_CALL, contact_id, entry_device, make_entry, place_call
from .simulator import Simulator


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Start the recorder before Home Assistant, as it must, then allow the integration."""


@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """Return an account whose contacts ring Mum's and Gate's phones, or quick dial."""
    return make_entry(
        simulator.url,
        contacts={
            "Mum": {"destination": "07700900123", "ring_first": "contact_number"},
            "Plumber": {"destination": "02079460958"},
            "Gate": {
                "destination": "2001486",
                "ring_first": "contact_number",
                "wait": True,
            },
        },
    )


async def _set_up(hass: HomeAssistant, entry: MockConfigEntry) -> datetime:
    """Set up the logbook and the account; return the time from which to read it.

    The logbook depends on the frontend, which the test environment lacks, only to
    register its panel; its API works without, so the frontend counts as set up.
    """
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return dt_util.utcnow()


async def _logbook(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    start: datetime,
    **target: list[str],
) -> list[dict[str, Any]]:
    """Return the logbook's entries of this integration since `start`.

    `entity_ids` or `device_ids` filter them as a logbook card or a device's page does.
    """
    await async_wait_recording_done(hass)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "logbook/get_events", "start_time": start.isoformat()} | target
    )
    response = await client.receive_json()
    assert response["success"], response
    return [entry for entry in response["result"] if entry.get("domain") == DOMAIN]


async def test_calls_in_the_logbook(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mock_config_entry: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """Each call says whose phone rang first and how it ended, linked to Last call."""
    start = await _set_up(hass, mock_config_entry)
    for contact in ("mum", "plumber"):
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: f"button.{contact}_call"}, blocking=True
        )
    await place_call(hass, {"destination": "0800 123", "wait": True})
    await place_call(hass, {"source": "07700 900456", "destination": "2001"})
    await place_call(hass, {"destination": "0800 456", "reverse": True})
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: "button.gate_call"}, blocking=True
        )
    assert len(simulator.calls) == 6

    entries = await _logbook(hass, hass_ws_client, start)

    assert [entry["message"] for entry in entries] == [
        "Rang Mum (07700900123): requested",
        "Call from extension 1234567 to Plumber (02079460958): requested",
        "Call from extension 1234567 to 0800123: the extension answered",
        "Rang 07700900456: requested",
        "Rang 0800456: requested",
        "Rang Gate (2001486): failed: Call rejected",
    ]
    assert {entry["name"] for entry in entries} == {"Spectronics VoIP"}
    assert {entry["entity_id"] for entry in entries} == {LAST_CALL}
    # The logbook names what placed each call: the press, the action.
    assert [
        (entry["context_domain"], entry["context_service"]) for entry in entries
    ] == [
        ("button", "press"),
        ("button", "press"),
        (DOMAIN, "place_call"),
        (DOMAIN, "place_call"),
        (DOMAIN, "place_call"),
        ("button", "press"),
    ]


async def test_a_call_held_back_by_the_cooldown_reads_as_not_sent(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mock_config_entry: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """A press within the cooldown sent nothing: the logbook must not say requested."""
    start = await _set_up(hass, mock_config_entry)
    for contact in ("mum", "mum", "plumber", "plumber"):
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: f"button.{contact}_call"}, blocking=True
        )
    assert len(simulator.calls) == 2

    mum, mum_held_back, plumber, plumber_held_back = await _logbook(
        hass, hass_ws_client, start
    )

    assert mum["message"] == "Rang Mum (07700900123): requested"
    assert mum_held_back["message"].startswith(
        "Mum (07700900123): not sent: an identical call succeeded "
    )
    assert plumber["message"] == (
        "Call from extension 1234567 to Plumber (02079460958): requested"
    )
    assert plumber_held_back["message"].startswith(
        "Call from extension 1234567 to Plumber (02079460958): not sent: an identical"
    )
    for held_back in (mum_held_back, plumber_held_back):
        assert held_back["message"].endswith("within the 30 s cooldown")
        assert held_back["entity_id"] == LAST_CALL


async def test_event_of_a_removed_account_is_still_described(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A recorded event whose account is gone still reads, with no entity.

    So do events recorded by 0.1, which had no rings_first (nor ring_first).
    """
    start = await _set_up(hass, mock_config_entry)
    old = {"config_entry_id": "gone", "contact": None, "success": True, "wait": False}
    hass.bus.async_fire(EVENT_CALL_RESULT, old | {"destination": "123"})
    hass.bus.async_fire(
        EVENT_CALL_RESULT,
        old
        | {
            "contact": "Mum",
            "extension": "1234567",
            "destination": "2001",
            "source": "07700900123",
            "reverse": False,
            "wait": True,
        },
    )

    first, second = await _logbook(hass, hass_ws_client, start)

    assert first["message"] == "Call to 123: requested"
    assert "entity_id" not in first or first["entity_id"] is None
    assert second["message"] == "Rang Mum (07700900123): answered"


async def test_calls_under_last_call_and_on_the_contacts_device(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mock_config_entry: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """A logbook card of Last call lists every call; a contact's page lists its own.

    The device pages and the logbook card filter by entity or device: the calls must
    be found there, not only in the unfiltered logbook.
    """
    start = await _set_up(hass, mock_config_entry)
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.mum_call"}, blocking=True
    )
    await hass.services.async_call(
        "notify",
        "send_message",
        {ATTR_ENTITY_ID: "notify.mum", "message": "Dinner"},
        blocking=True,
    )
    await place_call(hass, {"destination": "0800 123"})
    assert len(simulator.calls) == 3
    mum = entry_device(hass, mock_config_entry, contact_id(mock_config_entry, "Mum"))
    gate = entry_device(hass, mock_config_entry, contact_id(mock_config_entry, "Gate"))
    account = entry_device(hass, mock_config_entry)
    assert mum is not None
    assert gate is not None
    assert account is not None

    by_entity = await _logbook(hass, hass_ws_client, start, entity_ids=[LAST_CALL])
    by_mum = await _logbook(hass, hass_ws_client, start, device_ids=[mum.id])
    by_gate = await _logbook(hass, hass_ws_client, start, device_ids=[gate.id])
    by_account = await _logbook(hass, hass_ws_client, start, device_ids=[account.id])

    assert [entry["message"] for entry in by_entity] == [
        "Rang Mum (07700900123): requested",
        "Rang Mum (07700900123): requested",
        "Call from extension 1234567 to 0800123: requested",
    ]
    assert [entry["message"] for entry in by_mum] == [
        "Rang Mum (07700900123): requested",
        "Rang Mum (07700900123): requested",
    ]
    assert by_gate == []
    assert [entry["message"] for entry in by_account] == [
        "Call from extension 1234567 to 0800123: requested"
    ]
