"""The README's YAML examples, run as written against the simulator."""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)
import yaml

from custom_components.spectronics_voip.const import DOMAIN, SERVICE_PLACE_CALL
from custom_components.spectronics_voip.services import PLACE_CALL_SCHEMA
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

from .simulator import Fault, Simulator

README = Path(__file__).parent.parent / "README.md"


def _examples() -> list[Any]:
    """Return every YAML block of the README, parsed."""
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.DOTALL)
    return [yaml.safe_load(block) for block in blocks]


def _example(predicate: str) -> Any:
    """Return the one README example whose YAML text contains `predicate`."""
    found = [block for block in _examples() if predicate in yaml.safe_dump(block)]
    assert len(found) == 1, predicate
    return found[0]


async def test_smoke_alarm_automation(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The alarm example rings the mobile with the caller name, once."""
    config = _example("Smoke alarm: ring my mobile")
    hass.states.async_set("binary_sensor.kitchen_smoke", "off")
    assert await async_setup_component(hass, "automation", config)

    hass.states.async_set("binary_sensor.kitchen_smoke", "on")
    await hass.async_block_till_done()

    assert simulator.calls == [
        {
            "auth": simulator.calls[0]["auth"],
            "extension": "1234567",
            "destination": "+447700900123",
            "cidname": "ALARM: KITCHEN SMOKE",
            "reverse": "0",
            "wait": "0",
        }
    ]


async def test_failed_call_automation(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The failure example notifies with the destination, the error and the message."""
    notify = async_mock_service(hass, "notify", "notify")
    assert await async_setup_component(
        hass, "automation", _example("Alarm call failed: notify instead")
    )

    await hass.services.async_call(
        DOMAIN, SERVICE_PLACE_CALL, {"destination": "+447700900123"}, blocking=True
    )
    await hass.async_block_till_done()
    assert notify == []

    simulator.set_fault(Fault(body=b"ERR:Call rejected"))
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN, SERVICE_PLACE_CALL, {"destination": "+447700900456"}, blocking=True
        )
    await hass.async_block_till_done()

    assert len(notify) == 1
    assert notify[0].data == {
        "title": "Alarm call to +447700900456 failed",
        "message": "api: Call rejected",
    }


@pytest.mark.parametrize(
    ("reply", "notified"),
    [(b"OK:Call answered", 0), (b"ERR:Call timed out", 1)],
)
async def test_wake_up_script(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    reply: bytes,
    notified: int,
) -> None:
    """The waiting script goes on after a failed call and notifies only then."""
    notify = async_mock_service(hass, "notify", "notify")
    assert await async_setup_component(hass, "script", _example("wake_up_call"))
    simulator.set_fault(Fault(body=reply))

    await hass.services.async_call("script", "wake_up_call", blocking=True)
    await hass.async_block_till_done()

    assert simulator.requests[-1].fields["wait"] == "1"
    assert len(notify) == notified


async def test_call_me_now_action(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The call-me-now example rings the source first, then the destination."""
    example = _example("source: '+447700900123'")
    domain, service = example["action"].split(".")

    await hass.services.async_call(domain, service, example["data"], blocking=True)

    fields = simulator.requests[-1].fields
    assert (fields["source"], fields["destination"]) == (
        "+447700900123",
        "+442079460958",
    )


def test_dashboard_button_card() -> None:
    """The button card performs the action with data the action accepts."""
    action = _example("perform-action")["tap_action"]
    assert action["perform_action"] == f"{DOMAIN}.{SERVICE_PLACE_CALL}"
    assert PLACE_CALL_SCHEMA(action["data"]) == action["data"]
