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

from .common import make_entry
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


@pytest.fixture
def contacts_entry(simulator: Simulator) -> MockConfigEntry:
    """Return the account with the contacts the README's examples use."""
    return make_entry(
        simulator.url,
        contacts={
            "Front door": {"destination": "2001"},
            "Mum": {"destination": "07700900123"},
            "Me": {"destination": "07700900001"},
            "Partner": {"destination": "07700900486"},
        },
    )


async def _set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up the account."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_contacts_dashboard(
    hass: HomeAssistant, contacts_entry: MockConfigEntry
) -> None:
    """Every entity the dashboard example shows exists."""
    await _set_up(hass, contacts_entry)
    card = _example("type: vertical-stack")
    entity_ids = [c["entity"] for c in card["cards"] if "entity" in c]
    entity_ids += [c["target"]["entity_id"] for c in card["cards"] if "target" in c]

    assert entity_ids
    for entity_id in entity_ids:
        assert hass.states.get(entity_id) is not None, entity_id


async def test_notify_mum_example(
    hass: HomeAssistant, contacts_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """The notify example rings Mum with the message as the caller name."""
    await _set_up(hass, contacts_entry)
    example = _example("Dinner is ready")
    domain, service = example["action"].split(".")

    await hass.services.async_call(
        domain, service, example["data"], target=example["target"], blocking=True
    )

    [call] = simulator.calls
    assert (call["destination"], call["cidname"]) == ("07700900123", "Dinner is ready")


async def test_last_call_failed_automation(
    hass: HomeAssistant, contacts_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """The "Last call failed" example tells the household who could not be called."""
    await _set_up(hass, contacts_entry)
    created = async_mock_service(hass, "persistent_notification", "create")
    assert await async_setup_component(
        hass, "automation", _example("Last call failed: tell the household")
    )
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.mum_call"}, blocking=True
    )
    await hass.async_block_till_done()
    assert created == []

    simulator.set_fault(Fault(body=b"ERR:Call rejected"))
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.front_door_call"}, blocking=True
        )
    await hass.async_block_till_done()

    assert [call.data for call in created] == [
        {"title": "Call to Front door failed", "message": "Call rejected"}
    ]


async def test_alarm_escalation_example(
    hass: HomeAssistant, contacts_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """The alarm example rings me, then my partner, twice; notifies if nobody answers."""
    await _set_up(hass, contacts_entry)
    created = async_mock_service(hass, "persistent_notification", "create")
    config = _example("Alarm: ring until someone answers")
    config["automation"][0]["actions"][0]["data"]["delay"] = 0  # not 10 s in a test
    simulator.ring_time = 0.01
    hass.states.async_set("alarm_control_panel.home", "armed_away")
    assert await async_setup_component(hass, "automation", config)

    # I answer (the simulator answers numbers that do not end in 486 or 408).
    hass.states.async_set("alarm_control_panel.home", "triggered")
    await hass.async_block_till_done()
    assert [c["destination"] for c in simulator.calls] == ["07700900001"]
    assert simulator.calls[0]["cidname"] == "ALARM: KITCHEN SMOKE"
    assert simulator.calls[0]["wait"] == "1"
    assert created == []

    # Nobody answers: two rounds of both, then the notification. (Within the cooldown
    # my answered call would count as answered again: turn it off for this part.)
    hass.config_entries.async_update_entry(contacts_entry, options={"cooldown": 0})
    simulator.set_fault(Fault(body=b"ERR:Call timed out"))
    hass.states.async_set("alarm_control_panel.home", "armed_away")
    hass.states.async_set("alarm_control_panel.home", "triggered")
    await hass.async_block_till_done()
    assert len(simulator.requests) - 1 - len(simulator.calls) == 4
    assert [call.data for call in created] == [
        {"message": "Nobody answered the alarm call"}
    ]
