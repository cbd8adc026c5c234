"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import timedelta
import json
from pathlib import Path
import socket
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.spectronics_voip.const import (
    CONF_COOLDOWN,
    CONF_EXTENSION,
    DOMAIN,
    SERVICE_PLACE_CALL,
    SUBENTRY_CONTACT,
)
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_API_TOKEN, CONF_URL
from homeassistant.core import Event, HomeAssistant, ServiceResponse
from homeassistant.helpers import device_registry as dr

from .simulator import ALL_TOKEN, EXTENSION, Simulator

INTEGRATION = Path(__file__).parent.parent / "custom_components" / DOMAIN
TRANSLATIONS: dict[str, Any] = json.loads(
    (INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8")
)
EXCEPTIONS: dict[str, Any] = TRANSLATIONS["exceptions"]

# The default account's counters and last call.
TODAY = f"sensor.extension_{EXTENSION}_calls_today"
LAST_HOUR = f"sensor.extension_{EXTENSION}_calls_in_the_last_hour"
LAST_CALL = f"event.extension_{EXTENSION}_last_call"
# Mum is quick dial (your extension rings first); Dad's own number rings first, so he
# has a notify entity and may be escalated to (set_up_mum_and_dad).
MUM_AND_DAD: dict[str, dict[str, Any]] = {
    "Mum": {"destination": "07700900456"},
    "Dad": {"destination": "07700900123", "ring_first": "contact_number"},
}
MUM = "button.mum_call"
DAD = "button.dad_call"
DAD_NOTIFY = "notify.dad"
# Numbers for call_until_answered's `destinations`, by what their phone does when
# rung first (see the simulator).
REJECTS = "01632960486"
TIMES_OUT = "01632960408"
ANSWERS = "01632960123"
# Every call result's keys, in their order.
RESULT_KEYS = [
    "config_entry_id",
    "contact",
    "ring_first",
    "extension",
    "destination",
    "source",
    "cidname",
    "reverse",
    "wait",
    "rings_first",
    "suppressed",
    "success",
    "message",
    "error",
]


def make_entry(
    url: str,
    *,
    extension: str = EXTENSION,
    token: str = ALL_TOKEN,
    options: Mapping[str, Any] | None = None,
    contacts: Mapping[str, Mapping[str, Any]] | None = None,
) -> MockConfigEntry:
    """Return an entry for one extension, as the config flow creates it.

    `contacts` maps each contact's name to its data, as the contact flow stores it
    (a quick-dial contact unless the data says which phone rings first).
    """
    return MockConfigEntry(
        domain=DOMAIN,
        minor_version=2,
        title=f"Extension {extension}",
        unique_id=extension,
        data={CONF_API_TOKEN: token, CONF_EXTENSION: extension, CONF_URL: url},
        options=dict(options or {}),
        subentries_data=[
            ConfigSubentryData(
                data={"ring_first": "my_extension", "wait": False, **data},
                subentry_type=SUBENTRY_CONTACT,
                title=name,
                unique_id=None,
            )
            for name, data in (contacts or {}).items()
        ],
    )


# What a result event carries beyond the call's result: the entity and device the
# logbook files it under.
LOGBOOK_KEYS = ("entity_id", "device_id")


def call_result(event: Event[Any]) -> dict[str, Any]:
    """Return a result event's call result, as the action's response reports it."""
    return {key: value for key, value in event.data.items() if key not in LOGBOOK_KEYS}


def contact_id(entry: MockConfigEntry, name: str) -> str:
    """Return the subentry id of the contact with this name."""
    [subentry_id] = [
        subentry.subentry_id
        for subentry in entry.subentries.values()
        if subentry.title == name
    ]
    return subentry_id


async def set_up_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add and set up an entry; assert it set up."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def set_up_mum_and_dad(
    hass: HomeAssistant, simulator: Simulator, **options: Any
) -> MockConfigEntry:
    """Set up the default account with Mum and Dad, no cooldown unless `options` set one."""
    return await set_up_entry(
        hass,
        make_entry(
            simulator.url, options={CONF_COOLDOWN: 0} | options, contacts=MUM_AND_DAD
        ),
    )


async def pass_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Let `delta` pass on the frozen clock and run what was due."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def place_call(
    hass: HomeAssistant, data: dict[str, Any], *, return_response: bool = False
) -> ServiceResponse:
    """Run the place_call action and wait for it."""
    return await hass.services.async_call(
        DOMAIN,
        SERVICE_PLACE_CALL,
        data,
        blocking=True,
        return_response=return_response,
    )


def translated(key: str, placeholders: Mapping[str, str] | None = None) -> str:
    """Return the English message Home Assistant renders for an exception key."""
    message: str = EXCEPTIONS[key]["message"].rstrip(".")
    return message.format(**placeholders) if placeholders else message


def free_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def entry_device(
    hass: HomeAssistant, entry: MockConfigEntry, key: str | None = None
) -> dr.DeviceEntry | None:
    """Return the account's device, or with `key` (a subentry id) a contact's."""
    identifier = (DOMAIN, f"{entry.entry_id}_{key}" if key else entry.entry_id)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next(
        (device for device in devices if identifier in device.identifiers), None
    )


async def until(condition: Callable[[], object], timeout: float = 10) -> None:
    """Wait until `condition()` is true, polling every 10 ms."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
