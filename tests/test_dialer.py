"""The dialer with a mock client: each client error ends in its translated failure."""

from __future__ import annotations

import asyncio
from unittest.mock import MagicMock

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.spectronics_voip.api import (
    CallRequest,
    SpectronicsApiError,
    SpectronicsAuthError,
    SpectronicsConnectError,
    SpectronicsConnectionError,
    SpectronicsError,
    SpectronicsExtensionError,
    SpectronicsResponseError,
    SpectronicsTimeoutError,
)
from custom_components.spectronics_voip.const import EVENT_CALL_RESULT
from custom_components.spectronics_voip.dialer import CallFailedError, CallResult
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant

from .common import make_entry, place_call, translated
from .conftest import MOCK_URL
from .simulator import EXTENSION


@pytest.fixture
async def account(hass: HomeAssistant, mock_client: MagicMock) -> MockConfigEntry:
    """Set up an account whose client is the mock."""
    entry = make_entry(MOCK_URL)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    mock_client.check_credentials.assert_awaited_once_with()
    return entry


@pytest.mark.parametrize(
    ("error", "key", "category"),
    [
        (SpectronicsAuthError("Invalid token"), "call_failed_auth", "auth"),
        (SpectronicsApiError("Account suspended"), "call_failed_api", "api"),
        (SpectronicsExtensionError("Bad extension"), "call_failed_api", "api"),
        (SpectronicsTimeoutError("no reply"), "call_failed_timeout", "timeout"),
        (
            SpectronicsResponseError("not OK"),
            "call_failed_invalid_response",
            "invalid_response",
        ),
        (SpectronicsConnectionError("reset"), "call_failed_connection", "connection"),
        (SpectronicsConnectError("refused"), "call_failed_connection", "connection"),
    ],
)
async def test_each_client_error_is_translated(
    hass: HomeAssistant,
    account: MockConfigEntry,
    mock_client: MagicMock,
    *,
    error: SpectronicsError,
    key: str,
    category: str,
) -> None:
    """The error raised carries the failed call's result; its event says the same."""
    mock_client.place_call.side_effect = error
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    with pytest.raises(CallFailedError) as exc_info:
        await place_call(hass, {"destination": "2001"})

    err = exc_info.value
    assert err.translation_key == key
    assert err.translation_placeholders == {"message": str(error)}
    assert str(err) == translated(key, {"message": str(error)})
    assert err.__cause__ is error
    assert err.result == CallResult(
        config_entry_id=account.entry_id,
        extension=EXTENSION,
        destination="2001",
        rings_first=EXTENSION,
        message=str(error),
        error=category,
    )
    await hass.async_block_till_done()
    [event] = events
    assert event.data["error"] == category
    # Only a refused token starts re-authentication.
    flows = hass.config_entries.flow.async_progress_by_handler("spectronics_voip")
    assert [flow["context"]["source"] for flow in flows] == (
        [SOURCE_REAUTH] if category == "auth" else []
    )
    # No connection at all is tried again (nothing was sent); the rest are not.
    attempts = 3 if isinstance(error, SpectronicsConnectError) else 1
    assert mock_client.place_call.await_count == attempts


async def test_the_result_is_the_dialers_own(
    hass: HomeAssistant, account: MockConfigEntry, mock_client: MagicMock
) -> None:
    """The call the client gets is the action's, with the account's defaults."""
    result = await account.runtime_data.async_call(
        CallRequest(destination="2001", source="07700900123", wait=True)
    )

    [call] = mock_client.place_call.await_args_list
    assert call.args == (
        CallRequest(destination="2001", source="07700900123", wait=True),
    )
    assert result.rings_first == "07700900123"
    assert result.second_leg == "2001"
    assert result.event_type == "answered"


async def test_a_call_cancelled_with_its_account_still_reports(
    hass: HomeAssistant, account: MockConfigEntry, mock_client: MagicMock
) -> None:
    """Unloading the account mid-call: the caller gets the cancelled result."""
    ringing = asyncio.Event()

    async def ring_forever(request: CallRequest, **_: object) -> None:
        ringing.set()
        await asyncio.Event().wait()

    mock_client.place_call.side_effect = ring_forever
    call = hass.async_create_task(
        account.runtime_data.async_call(CallRequest(destination="2001"))
    )
    await ringing.wait()

    assert await hass.config_entries.async_unload(account.entry_id)

    with pytest.raises(CallFailedError) as exc_info:
        await call
    assert exc_info.value.translation_key == "call_failed_cancelled"
    assert exc_info.value.result.error == "cancelled"
    assert exc_info.value.result.destination == "2001"
