"""Repair issues: calls failing the same way three times, and an http:// API URL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.spectronics_voip.const import DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from .common import TRANSLATIONS, free_port, make_entry, place_call
from .simulator import PATH, Fault, Simulator

SUSPENDED = Fault(body=b"ERR:Account suspended")


async def _set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add and set up an entry."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _issue(
    hass: HomeAssistant, kind: str, entry: MockConfigEntry
) -> ir.IssueEntry | None:
    """Return an account's repair issue of this kind, if any."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry.entry_id}")


async def _fail(hass: HomeAssistant, data: dict[str, Any], times: int = 1) -> None:
    """Place calls that fail."""
    for _ in range(times):
        with pytest.raises(HomeAssistantError):
            await place_call(hass, data)


async def test_calls_failing_the_same_way_raise_one_issue(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Three identical provider errors raise the issue once; a success removes it."""
    entry = await _set_up(hass, make_entry(simulator.url))
    updates = async_capture_events(hass, ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED)
    simulator.set_fault(SUSPENDED)

    await _fail(hass, {"destination": "2001"}, times=2)
    assert _issue(hass, "calls_failing", entry) is None
    await _fail(hass, {"destination": "2002"})

    issue = _issue(hass, "calls_failing", entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.is_fixable is False
    assert issue.translation_key == "calls_failing"
    assert issue.translation_placeholders == {
        "title": "Extension 1234567",
        "count": "3",
        "message": "Account suspended",
        "provider_url": "http://voip.spectronics.co.uk/",
    }

    await _fail(hass, {"destination": "2003"}, times=2)
    failing = [u for u in updates if u.data["issue_id"].startswith("calls_failing")]
    assert [u.data["action"] for u in failing] == ["create"]

    simulator.set_fault(None)
    await place_call(hass, {"destination": "2004"})

    assert _issue(hass, "calls_failing", entry) is None
    failing = [u for u in updates if u.data["issue_id"].startswith("calls_failing")]
    assert [u.data["action"] for u in failing] == ["create", "remove"]


async def test_different_errors_raise_no_issue(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Two errors, then another: the run starts again, no issue."""
    entry = await _set_up(hass, make_entry(simulator.url))

    simulator.set_fault(SUSPENDED)
    await _fail(hass, {"destination": "2001"}, times=2)
    simulator.set_fault(Fault(body=b"ERR:Out of credit"))
    await _fail(hass, {"destination": "2001"}, times=2)

    assert _issue(hass, "calls_failing", entry) is None
    await _fail(hass, {"destination": "2001"})
    issue = _issue(hass, "calls_failing", entry)
    assert issue is not None
    assert issue.translation_placeholders["message"] == "Out of credit"  # type: ignore[index]


async def test_a_success_in_between_breaks_the_run(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Two failures, a success, two failures: no issue."""
    entry = await _set_up(hass, make_entry(simulator.url))
    simulator.set_fault(SUSPENDED)
    await _fail(hass, {"destination": "2001"}, times=2)
    simulator.set_fault(None)
    await place_call(hass, {"destination": "2001"})
    simulator.set_fault(SUSPENDED)
    await _fail(hass, {"destination": "2002"}, times=2)

    assert _issue(hass, "calls_failing", entry) is None


@pytest.mark.parametrize(
    "arrange",
    ["unanswered", "connection"],
)
async def test_failures_that_say_nothing_about_the_account(
    hass: HomeAssistant, simulator: Simulator, arrange: str
) -> None:
    """Nobody answering a waiting call, or no connection, is not the account's fault."""
    entry = await _set_up(hass, make_entry(simulator.url))
    simulator.ring_time = 0.01
    if arrange == "unanswered":
        # Each number rings first (as the source): two reject, two ring out.
        numbers = ["2001486", "2002408", "2003486", "2004408"]
        data = [
            {"source": number, "destination": "2000", "wait": True}
            for number in numbers
        ]
    else:
        entry.runtime_data.client.url = f"http://127.0.0.1:{free_port()}{PATH}"
        data = [{"destination": f"200{i}"} for i in range(4)]

    for call in data:
        await _fail(hass, call)

    assert _issue(hass, "calls_failing", entry) is None


PROVIDER = "http://voip.spectronics.co.uk/api/0.9.3/call"


@pytest.mark.usefixtures("mock_client")
async def test_plain_http_url_warns(hass: HomeAssistant) -> None:
    """An http:// API URL to another host warns, naming the https:// address to try."""
    entry = await _set_up(hass, make_entry(PROVIDER))

    issue = _issue(hass, "insecure_url", entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.is_fixable is False
    assert issue.translation_placeholders == {
        "title": "Extension 1234567",
        "host": "voip.spectronics.co.uk",
        "https_url": "https://voip.spectronics.co.uk/api/0.9.3/call",
    }

    # Reloading does not raise it twice.
    updates = async_capture_events(hass, ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert [u.data["action"] for u in updates] in ([], ["update"])
    assert [issue.issue_id for issue in ir.async_get(hass).issues.values()] == [
        f"insecure_url_{entry.entry_id}"
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8090/api/0.9.3/call",
        "http://127.8.9.10/api/0.9.3/call",
        "http://localhost:8090/api/0.9.3/call",
        "http://[::1]:8090/api/0.9.3/call",
    ],
)
@pytest.mark.usefixtures("mock_client")
async def test_plain_http_to_this_machine_does_not_warn(
    hass: HomeAssistant, url: str
) -> None:
    """To a loopback address (the demo's simulator) the token crosses no network."""
    entry = await _set_up(hass, make_entry(url))

    assert entry.state is ConfigEntryState.LOADED
    assert _issue(hass, "insecure_url", entry) is None


@pytest.mark.usefixtures("mock_client")
async def test_https_url_removes_the_warning(hass: HomeAssistant) -> None:
    """When the URL changes to https://, the warning goes."""
    entry = await _set_up(hass, make_entry(PROVIDER))
    assert _issue(hass, "insecure_url", entry) is not None

    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "url": PROVIDER.replace("http://", "https://")}
    )
    await hass.async_block_till_done()

    assert _issue(hass, "insecure_url", entry) is None


async def test_removing_the_account_removes_its_issues(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Both issues go with their account."""
    entry = await _set_up(hass, make_entry(simulator.url))
    simulator.set_fault(SUSPENDED)
    await _fail(hass, {"destination": "2001"}, times=3)
    assert _issue(hass, "calls_failing", entry) is not None

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    assert _issue(hass, "calls_failing", entry) is None


@pytest.mark.parametrize("kind", ["calls_failing", "insecure_url"])
def test_issues_are_translated(kind: str) -> None:
    """Each issue has a title and a description that use exactly its placeholders."""
    text = TRANSLATIONS["issues"][kind]
    assert text["title"]
    assert text["description"]
    placeholders = set(re.findall(r"{(\w+)}", text["title"] + text["description"]))
    assert (
        placeholders
        == {
            "calls_failing": {"title", "count", "message", "provider_url"},
            "insecure_url": {"title", "host", "https_url"},
        }[kind]
    )
