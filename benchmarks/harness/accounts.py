"""The accounts the calls go through, and the helpers the paths compare with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import time
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry  # type: ignore[import-untyped]

from benchmarks.harness.config import (
    BENCH_OPTIONS,
    BUDGET_OFF_UNIQUE_ID,
    BUDGET_ON_OPTIONS,
    BUDGET_ON_UNIQUE_ID,
    CONTACT,
    DESTINATION,
    DOMAIN,
    ESCALATION_SCRIPT,
    FLOOD_OPTIONS,
    FLOOD_UNIQUE_ID,
    FORM_BODY,
    FORM_CONTENT_TYPE,
    QUEUE_OPTIONS,
    QUEUE_UNIQUE_ID,
    RAILS_OPTIONS,
    RAILS_UNIQUE_ID,
    REST_NAME,
    REST_WAIT_NAME,
    REST_WAIT_PAYLOAD,
)
from benchmarks.harness.internals import timing_setup_entry
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_API_TOKEN, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from tests.simulator import ALL_TOKEN, EXTENSION


def account(
    url: str,
    *,
    unique_id: str = EXTENSION,
    title: str = f"Extension {EXTENSION}",
    options: dict[str, Any] | None = None,
    contacts: Sequence[str] = (),
) -> MockConfigEntry:
    """Return an account as the config flow makes it, its contacts as subentries."""
    return MockConfigEntry(
        domain=DOMAIN,
        minor_version=2,
        title=title,
        unique_id=unique_id,
        data={CONF_API_TOKEN: ALL_TOKEN, "extension": EXTENSION, CONF_URL: url},
        options=options or {},
        subentries_data=[
            ConfigSubentryData(
                # Its number rings first, connected to the account's extension.
                data={
                    "ring_first": "contact_number",
                    "destination": DESTINATION,
                    "wait": False,
                },
                subentry_type="contact",
                title=name,
                unique_id=None,
            )
            for name in contacts
        ],
    )


def _other_account(
    url: str, unique_id: str, label: str, options: dict[str, Any]
) -> MockConfigEntry:
    """Return one of the accounts besides the benchmark's, its title saying what it is."""
    return account(
        url,
        unique_id=unique_id,
        title=f"Extension {EXTENSION} ({label})",
        options=options,
    )


@dataclass(frozen=True, slots=True)
class Accounts:
    """The accounts the calls go through, and the contact's entities."""

    bench: MockConfigEntry
    rails: MockConfigEntry
    queue: MockConfigEntry
    budget_on: MockConfigEntry
    budget_off: MockConfigEntry
    flood: MockConfigEntry
    button: str
    notify: str

    @property
    def all(self) -> tuple[MockConfigEntry, ...]:
        """Return every account."""
        return (
            self.bench,
            self.rails,
            self.queue,
            self.budget_on,
            self.budget_off,
            self.flood,
        )


@dataclass(frozen=True, slots=True)
class SetupTimes:
    """How long the benchmark's account took to set up: the first time, then reloads."""

    load_integration_s: float
    first_setup_s: float
    setup_entry_s: tuple[float, ...]


async def _set_up_helpers(hass: HomeAssistant, url: str) -> None:
    """Set up rest_command (wait=0 and wait=1), the escalation script, input_button."""
    assert await async_setup_component(
        hass,
        "rest_command",
        {
            "rest_command": {
                REST_NAME: {
                    "url": url,
                    "method": "post",
                    "payload": FORM_BODY,
                    "content_type": FORM_CONTENT_TYPE,
                },
                REST_WAIT_NAME: {
                    "url": url,
                    "method": "post",
                    "payload": REST_WAIT_PAYLOAD,
                    "content_type": FORM_CONTENT_TYPE,
                },
            }
        },
    )
    assert await async_setup_component(hass, "script", {"script": ESCALATION_SCRIPT})
    assert await async_setup_component(
        hass, "input_button", {"input_button": {"bench": {"name": "Bench"}}}
    )


async def set_up(
    hass: HomeAssistant, url: str, reloads: int
) -> tuple[Accounts, SetupTimes]:
    """Set up the helpers and the accounts, timing the first account's set-up.

    The benchmark's account is the first entry of the integration set up in this
    Home Assistant, then reloaded `reloads` times; the others follow.
    """
    await _set_up_helpers(hass, url)
    async with timing_setup_entry(hass) as times:
        entry = account(url, options=BENCH_OPTIONS, contacts=[CONTACT])
        entry.add_to_hass(hass)
        start = time.perf_counter()
        assert await hass.config_entries.async_setup(entry.entry_id)
        first_setup = time.perf_counter() - start
        await hass.async_block_till_done()
        for _ in range(reloads):
            assert await hass.config_entries.async_reload(entry.entry_id)
    rails = _other_account(url, RAILS_UNIQUE_ID, "default rails", RAILS_OPTIONS)
    queue = _other_account(url, QUEUE_UNIQUE_ID, "queue, default rails", QUEUE_OPTIONS)
    budget_on = _other_account(url, BUDGET_ON_UNIQUE_ID, "budget on", BUDGET_ON_OPTIONS)
    budget_off = _other_account(url, BUDGET_OFF_UNIQUE_ID, "budget off", BENCH_OPTIONS)
    flood = _other_account(
        url, FLOOD_UNIQUE_ID, "flood, default rails, small budget", FLOOD_OPTIONS
    )
    for other in (rails, queue, budget_on, budget_off, flood):
        other.add_to_hass(hass)
        assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()
    # The contact's two entities, found as a user would: by the contact they belong to.
    [subentry_id] = entry.subentries
    contact_entities = {
        entity.domain: entity.entity_id
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if entity.config_subentry_id == subentry_id
    }
    button, notify = contact_entities["button"], contact_entities["notify"]
    accounts = Accounts(
        entry, rails, queue, budget_on, budget_off, flood, button, notify
    )
    return accounts, SetupTimes(times.load_s, first_setup, tuple(times.setup_entry_s))
