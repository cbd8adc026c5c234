"""Diagnostics: the entry, its contacts and the client's settings, secrets redacted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.spectronics_voip.const import (
    CONF_ALLOWED_NUMBERS,
    CONF_CIDNAME,
    CONF_CONNECT_TO,
    CONF_DESTINATION,
    CONF_RING_FIRST,
    CONF_WAIT,
    CONF_WAIT_TIMEOUT,
    RING_CONTACT_NUMBER,
    SUBENTRY_CONTACT,
)
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .common import make_entry
from .simulator import ALL_TOKEN, EXTENSION, PATH, Fault, Simulator

CIDNAME = "Front door"
ALLOWED = ["+441632*", "01632960789", "07700900123"]
GRANDMA = {CONF_DESTINATION: "07700900123"}
GATE = {
    CONF_RING_FIRST: RING_CONTACT_NUMBER,
    CONF_DESTINATION: "01632960789",
    CONF_CONNECT_TO: "+441632960456",
    CONF_CIDNAME: "Gate intercom",
    CONF_WAIT: True,
}
CONNECT_TO = "07700900999"
CONTACTS = {"Grandma Jones": GRANDMA, "Garden gate": GATE}
STABLE_URL = f"http://127.0.0.1:<port>{PATH}"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Use Home Assistant's serializer and its tests/snapshots folder on every version."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """Return the entry for extension 1234567, with call defaults and two contacts."""
    return make_entry(
        simulator.url,
        options={
            CONF_CIDNAME: CIDNAME,
            CONF_CONNECT_TO: CONNECT_TO,
            CONF_WAIT: True,
            CONF_WAIT_TIMEOUT: 60,
            CONF_ALLOWED_NUMBERS: ALLOWED,
        },
        contacts=CONTACTS,
    )


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """The token, the extensions, caller names, numbers, titles, unique id: redacted.

    Each contact is listed with its settings; its name and numbers are not. The last
    calls are there too, so that a downloaded file explains a failed call.
    """
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.grandma_jones_call"}, blocking=True
    )
    simulator.set_fault(Fault(body=b"ERR:Account suspended"))
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.garden_gate_call"}, blocking=True
        )
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_integration
    )

    text = json.dumps(diagnostics)
    secrets = {ALL_TOKEN, EXTENSION, CIDNAME, CONNECT_TO, *CONTACTS, *ALLOWED}
    for contact in CONTACTS.values():
        secrets |= {
            value
            for key, value in contact.items()
            if isinstance(value, str) and key != CONF_RING_FIRST
        }
    for secret in secrets:
        assert secret not in text
    # Nor the numbers' digits without their + or leading 0.
    for number in (
        GRANDMA[CONF_DESTINATION],
        GATE[CONF_DESTINATION],
        GATE[CONF_CONNECT_TO],
        CONNECT_TO,
    ):
        assert number.lstrip("+0") not in text
    assert diagnostics["calls"]["counts"] == {"success": 1, "api": 1}
    assert diagnostics["calls"]["lines"] == {"active": 0, "queued": 0}
    assert [call["message"] for call in diagnostics["calls"]["recent"]] == [
        "Call request sent",
        "Account suspended",
    ]
    assert diagnostics["entry"]["entry_id"] == init_integration.entry_id
    assert "subentries" not in diagnostics["entry"]
    assert [contact["subentry_id"] for contact in diagnostics["contacts"]] == list(
        init_integration.subentries
    )
    assert {contact["subentry_type"] for contact in diagnostics["contacts"]} == {
        SUBENTRY_CONTACT
    }

    def stable_url(data: Any, path: Any) -> Any:
        """Replace the simulator's random port in the URLs."""
        if path and path[-1][0] == CONF_URL and data == simulator.url:
            return STABLE_URL
        return data

    assert diagnostics == snapshot(
        exclude=props(
            "entry_id", "subentry_id", "config_entry_id", "created_at", "modified_at"
        ),
        matcher=stable_url,
    )
