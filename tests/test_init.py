"""Setting up and unloading an account, over real HTTP to the simulator."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spectronics_voip.api import SpectronicsClient
from custom_components.spectronics_voip.const import DOMAIN, SERVICE_PLACE_CALL
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component

from .common import make_entry
from .simulator import ALL_TOKEN, EXTENSION, Simulator


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry and try to set it up."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_setup_and_unload(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """The entry loads after one check without a destination, and unloads."""
    assert init_integration.state is ConfigEntryState.LOADED
    client = init_integration.runtime_data.client
    assert isinstance(client, SpectronicsClient)
    assert client.url == simulator.url
    assert client.extension == EXTENSION
    assert ALL_TOKEN not in repr(client)
    dialer = init_integration.runtime_data
    assert repr(dialer) == f"SpectronicsDialer({client!r})"
    [request] = simulator.requests
    assert request.fields == {"auth": ALL_TOKEN, "extension": EXTENSION}
    assert simulator.calls == []

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    assert init_integration.state is ConfigEntryState.NOT_LOADED
    # The action belongs to the integration, not to the entry: it stays, and refuses.
    assert hass.services.has_service(DOMAIN, SERVICE_PLACE_CALL)
    with pytest.raises(ServiceValidationError) as exc_info:
        await hass.services.async_call(
            DOMAIN,
            SERVICE_PLACE_CALL,
            {"config_entry_id": init_integration.entry_id, "destination": "123"},
            blocking=True,
        )
    assert exc_info.value.translation_key == "entry_not_loaded"
    assert len(simulator.requests) == 1
    assert simulator.calls == []


async def test_action_registered_without_entries(hass: HomeAssistant) -> None:
    """The action exists as soon as the integration is set up, with no account."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert hass.services.has_service(DOMAIN, SERVICE_PLACE_CALL)


async def test_setup_auth_failed(
    hass: HomeAssistant, simulator: Simulator, mock_config_entry: MockConfigEntry
) -> None:
    """A refused token is a setup error that starts re-authentication."""
    simulator.tokens = {"rotated-token"}

    await setup_entry(hass, mock_config_entry)

    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert mock_config_entry.error_reason_translation_key == "setup_auth_failed"
    # Home Assistant drops the translation's final full stop.
    assert mock_config_entry.reason == (
        "Spectronics refused the API token. Re-authenticate to go on placing calls"
    )
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == mock_config_entry.entry_id
    assert simulator.calls == []


async def test_setup_extension_refused(
    hass: HomeAssistant, simulator: Simulator, mock_config_entry: MockConfigEntry
) -> None:
    """An extension the account no longer has is a setup error, not a reauth."""
    simulator.extensions.discard(EXTENSION)

    await setup_entry(hass, mock_config_entry)

    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert mock_config_entry.error_reason_translation_key == "setup_extension_refused"
    assert mock_config_entry.reason == (
        f"Spectronics refused extension {EXTENSION}. "
        "Reconfigure the integration with a valid extension"
    )
    assert hass.config_entries.flow.async_progress() == []
    assert simulator.calls == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("http500", "unexpected HTTP status 500"),
        ("html", "reply is not an OK: or ERR: line"),
        ("drop", None),
    ],
)
async def test_setup_not_ready(
    hass: HomeAssistant,
    simulator: Simulator,
    mock_config_entry: MockConfigEntry,
    fault: str,
    error: str | None,
) -> None:
    """A failing or garbled provider makes Home Assistant retry later."""
    simulator.set_fault(fault)

    await setup_entry(hass, mock_config_entry)

    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert mock_config_entry.error_reason_translation_key == "setup_not_ready"
    assert mock_config_entry.reason is not None
    assert mock_config_entry.reason.startswith("Could not reach the Spectronics API: ")
    if error is not None:
        assert mock_config_entry.reason.endswith(error)
    assert ALL_TOKEN not in mock_config_entry.reason
    assert hass.config_entries.flow.async_progress() == []


async def test_setup_unreachable(
    hass: HomeAssistant, simulator: Simulator, closed_url: str
) -> None:
    """A closed port makes Home Assistant retry later."""
    entry = make_entry(closed_url)

    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "setup_not_ready"
    assert entry.reason is not None
    assert entry.reason.startswith("Could not reach the Spectronics API: ")
    assert simulator.requests == []
