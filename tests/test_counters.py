"""The account's call counters (Calls today, Calls in the last hour) and diagnostics."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.spectronics_voip.const import (
    CONF_COOLDOWN,
    CONF_MAX_CALLS_PER_DAY,
    CONF_MAX_CALLS_PER_HOUR,
)
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from .common import (
    INTEGRATION,
    LAST_HOUR,
    TODAY,
    TRANSLATIONS,
    entry_device,
    make_entry,
    pass_time,
    place_call,
    set_up_entry,
)
from .simulator import Simulator

# 23:30 in US/Pacific, the tests' time zone.
LATE_UTC = "2025-03-02 07:30:00"


async def _account(
    hass: HomeAssistant, simulator: Simulator, **options: Any
) -> MockConfigEntry:
    """Set up an account with these options and no cooldown."""
    return await set_up_entry(
        hass, make_entry(simulator.url, options={CONF_COOLDOWN: 0} | options)
    )


def _attributes(hass: HomeAssistant, entity_id: str) -> tuple[str, dict[str, Any]]:
    """Return a counter's state and attributes."""
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state, dict(state.attributes)


async def test_the_counters(hass: HomeAssistant, simulator: Simulator) -> None:
    """Their states, units, state classes and budgets, on the account's device."""
    entry = await _account(hass, simulator)

    assert _attributes(hass, TODAY) == (
        "0",
        {
            "friendly_name": "Extension 1234567 Calls today",
            "state_class": "total_increasing",
            "budget": 200,
        },
    )
    assert _attributes(hass, LAST_HOUR) == (
        "0",
        {
            "friendly_name": "Extension 1234567 Calls in the last hour",
            "state_class": "measurement",
            "budget": 60,
        },
    )
    registry = er.async_get(hass)
    device = entry_device(hass, entry)
    assert device is not None
    for entity_id, key in ((TODAY, "calls_today"), (LAST_HOUR, "calls_last_hour")):
        entity = registry.async_get(entity_id)
        assert entity is not None
        assert entity.unique_id == f"{entry.entry_id}_{key}"
        assert entity.translation_key == key
        assert entity.device_id == device.id
        assert entity.config_subentry_id is None

    await place_call(hass, {"destination": "2001"})
    await place_call(hass, {"destination": "2002"})

    assert _attributes(hass, TODAY)[0] == "2"
    assert _attributes(hass, LAST_HOUR)[0] == "2"


def test_the_counters_are_translated_with_icons() -> None:
    """Each counter has a name, a name for its budget attribute, and an icon."""
    icons = json.loads((INTEGRATION / "icons.json").read_text())["entity"]["sensor"]
    names = TRANSLATIONS["entity"]["sensor"]
    for key in ("calls_today", "calls_last_hour"):
        assert names[key]["name"]
        assert names[key]["state_attributes"]["budget"]["name"]
        assert icons[key]["default"].startswith("mdi:")


async def test_the_budget_attribute_follows_the_options(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A changed budget shows at once; a budget turned off is None."""
    entry = await _account(
        hass, simulator, **{CONF_MAX_CALLS_PER_HOUR: 5, CONF_MAX_CALLS_PER_DAY: 0}
    )
    assert _attributes(hass, LAST_HOUR)[1]["budget"] == 5
    assert _attributes(hass, TODAY)[1]["budget"] is None

    hass.config_entries.async_update_entry(
        entry, options={CONF_MAX_CALLS_PER_HOUR: 0, CONF_MAX_CALLS_PER_DAY: 7}
    )
    await hass.async_block_till_done()

    assert _attributes(hass, LAST_HOUR)[1]["budget"] is None
    assert _attributes(hass, TODAY)[1]["budget"] == 7


@pytest.mark.freeze_time(LATE_UTC)
async def test_the_counters_follow_the_hour_and_the_day(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 23:30 call leaves today at midnight and the last hour at 00:30."""
    await _account(hass, simulator)
    await place_call(hass, {"destination": "2001"})
    await pass_time(hass, freezer, timedelta(minutes=20))
    await place_call(hass, {"destination": "2002"})  # 23:50
    assert (_attributes(hass, LAST_HOUR)[0], _attributes(hass, TODAY)[0]) == ("2", "2")
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)

    await pass_time(hass, freezer, timedelta(minutes=10, seconds=1))  # 00:00:01
    assert (_attributes(hass, LAST_HOUR)[0], _attributes(hass, TODAY)[0]) == ("2", "0")
    await pass_time(hass, freezer, timedelta(minutes=30))  # 00:30:01
    assert (_attributes(hass, LAST_HOUR)[0], _attributes(hass, TODAY)[0]) == ("1", "0")
    await pass_time(hass, freezer, timedelta(minutes=20))  # 00:50:01
    assert (_attributes(hass, LAST_HOUR)[0], _attributes(hass, TODAY)[0]) == ("0", "0")

    # Each change written once: today at midnight, the hour at 00:30 and 00:50.
    counters = [
        (event.data["entity_id"], event.data["new_state"].state)
        for event in changes
        if event.data["entity_id"] in (TODAY, LAST_HOUR)
        and event.data["old_state"].state != event.data["new_state"].state
    ]
    assert counters == [(TODAY, "0"), (LAST_HOUR, "1"), (LAST_HOUR, "0")]


# A call is reserved against the budget while it is sent, and counted only once it
# may have reached the provider: "Calls today" (state class total_increasing) never
# drops during the day, which the statistics would read as a meter reset (a drop of
# more than 10 %) or log as "not strictly increasing" (a smaller one).
async def test_calls_today_never_goes_down_during_the_day(
    hass: HomeAssistant, simulator: Simulator, closed_url: str
) -> None:
    """A call that never connected leaves Calls today where it was."""
    entry = await _account(hass, simulator)
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    entry.runtime_data.client.url = closed_url

    with pytest.raises(HomeAssistantError):
        await place_call(hass, {"destination": "2001"})
    await hass.async_block_till_done()

    today = [0] + [
        int(event.data["new_state"].state)
        for event in changes
        if event.data["entity_id"] == TODAY
    ]
    assert today == sorted(today)
    assert today[-1] == 0


async def test_diagnostics_show_the_counts_not_the_numbers(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, simulator: Simulator
) -> None:
    """calls.sent and calls.budget are counts; no number called appears."""
    entry = await _account(
        hass, simulator, **{CONF_MAX_CALLS_PER_HOUR: 5, CONF_MAX_CALLS_PER_DAY: 0}
    )
    await place_call(hass, {"destination": "07700900987"})
    await place_call(hass, {"destination": "07700900988"})

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    calls = diagnostics["calls"]
    assert calls["sent"] == {"last_hour": 2, "today": 2}
    assert calls["budget"] == {"per_hour": 5, "per_day": 0}
    text = json.dumps(diagnostics)
    for number in ("07700900987", "07700900988", "7700900987", "7700900988"):
        assert number not in text
