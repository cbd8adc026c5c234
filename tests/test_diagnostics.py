"""Diagnostics: the entry and the client's settings, with secrets redacted."""

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
    CONF_CIDNAME,
    CONF_WAIT,
    CONF_WAIT_TIMEOUT,
)
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant

from .common import make_entry
from .simulator import ALL_TOKEN, EXTENSION, PATH, Simulator

CIDNAME = "Front door"
STABLE_URL = f"http://127.0.0.1:<port>{PATH}"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Use Home Assistant's serializer and its tests/snapshots folder on every version."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """Return the entry for extension 1234567, with call defaults set."""
    return make_entry(
        simulator.url,
        options={CONF_CIDNAME: CIDNAME, CONF_WAIT: True, CONF_WAIT_TIMEOUT: 60},
    )


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """The token, the extension, the caller name, unique id and title are redacted."""
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_integration
    )

    text = json.dumps(diagnostics)
    for secret in (ALL_TOKEN, EXTENSION, CIDNAME):
        assert secret not in text
    assert diagnostics["entry"]["entry_id"] == init_integration.entry_id

    def stable_url(data: Any, path: Any) -> Any:
        """Replace the simulator's random port in the URLs."""
        if path and path[-1][0] == CONF_URL and data == simulator.url:
            return STABLE_URL
        return data

    assert diagnostics == snapshot(
        exclude=props("entry_id", "created_at", "modified_at"), matcher=stable_url
    )
