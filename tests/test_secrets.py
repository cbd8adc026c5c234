"""The token never travels in a URL.

That it appears in no log record, event or exception is checked over every test by the
session-wide guard, tests/secret_guard.py.
"""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spectronics_voip.const import DOMAIN, SERVICE_PLACE_CALL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .simulator import ALL_TOKEN, PATH, Simulator


async def test_token_never_in_a_url(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The provider sees the token only in POST bodies: never in a path or query."""
    await hass.services.async_call(
        DOMAIN, SERVICE_PLACE_CALL, {"destination": "123"}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, SERVICE_PLACE_CALL, {"destination": "456", "wait": True}, blocking=True
    )
    simulator.tokens.clear()
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN, SERVICE_PLACE_CALL, {"destination": "789"}, blocking=True
        )

    assert len(simulator.requests) == 4  # the setup's check and three calls
    for request in simulator.requests:
        assert request.method == "POST"
        assert request.path == PATH
        assert request.query == {}
        assert request.fields["auth"] == ALL_TOKEN
        assert request.body.startswith(b"auth=")
    assert ALL_TOKEN not in init_integration.runtime_data.client.url
