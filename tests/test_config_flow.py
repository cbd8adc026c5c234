"""Config flow: account, re-authentication, reconfiguration and options, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator, Mapping
import json
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import voluptuous as vol

from custom_components.spectronics_voip.api import SpectronicsClient
from custom_components.spectronics_voip.const import (
    CONF_ADMIN_ONLY,
    CONF_ALLOWED_NUMBERS,
    CONF_CIDNAME,
    CONF_CONNECT_TO,
    CONF_COOLDOWN,
    CONF_EXTENSION,
    CONF_MAX_CONCURRENT_CALLS,
    CONF_WAIT,
    CONF_WAIT_TIMEOUT,
    DOMAIN,
)
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_USER,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_API_TOKEN, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component

from .common import TRANSLATIONS, entry_device, make_entry, place_call, until
from .simulator import (
    ALL_TOKEN,
    EXTENSION,
    OTHER_EXTENSION,
    SINGLE_TOKEN,
    Fault,
    Simulator,
)

UNKNOWN_EXTENSION = "1111111"


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep a created entry from being set up, so only the flow talks to the simulator."""
    with patch(
        "custom_components.spectronics_voip.async_setup_entry", return_value=True
    ) as mock_setup:
        yield mock_setup


@pytest.fixture
def short_timeout() -> Generator[None]:
    """Give every new client a 0.2 s request timeout instead of 20 s."""
    defaults = SpectronicsClient.__init__.__kwdefaults__
    assert defaults is not None
    with patch.dict(defaults, {"request_timeout": 0.2}):
        yield


@pytest.fixture
async def second_simulator(socket_enabled: None) -> AsyncGenerator[Simulator]:
    """Serve another provider on another port, with its own token."""
    sim = Simulator(tokens=("second-token",))
    await sim.start()
    yield sim
    await sim.stop()


def assert_translated(result: Mapping[str, Any], section: str = "config") -> None:
    """Check the result's step, fields, errors and abort reason are all in en.json."""
    strings = TRANSLATIONS[section]
    if result["type"] is FlowResultType.ABORT:
        assert result["reason"] in strings["abort"]
        return
    if result["type"] is not FlowResultType.FORM:
        return
    step = strings["step"][result["step_id"]]
    fields = {str(key) for key in result["data_schema"].schema}
    assert fields == set(step["data"]) == set(step["data_description"])
    for field, error in (result["errors"] or {}).items():
        # An error on a field the form does not show is never displayed.
        assert field == "base" or field in fields
        assert error in strings["error"]


# The safety rails an options flow saves when they are left as they are.
RAIL_FORM_DEFAULTS: dict[str, Any] = {
    CONF_COOLDOWN: 30,
    CONF_MAX_CONCURRENT_CALLS: 4,
    "max_calls_per_hour": 60,
    "max_calls_per_day": 200,
    CONF_ADMIN_ONLY: True,
}
RAIL_DEFAULTS: dict[str, Any] = {**RAIL_FORM_DEFAULTS, CONF_ALLOWED_NUMBERS: []}


def suggested(result: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values a re-shown form suggests, by field."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def without_token(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values a re-shown form may suggest: all but the token."""
    return {key: value for key, value in values.items() if key != CONF_API_TOKEN}


def form_json(result: Mapping[str, Any]) -> str:
    """Return what a form result carries to the browser: fields, values, errors."""
    fields = [
        {
            "name": str(key),
            "description": key.description,
            "default": None if key.default is vol.UNDEFINED else key.default(),
        }
        for key in result["data_schema"].schema
    ]
    return json.dumps({**result, "data_schema": fields}, default=str)


def account(simulator: Simulator, **changes: str) -> dict[str, str]:
    """Return valid user input for the simulator, with some fields changed."""
    return {
        CONF_API_TOKEN: ALL_TOKEN,
        CONF_EXTENSION: EXTENSION,
        CONF_URL: simulator.url,
        **changes,
    }


async def start_user_flow(hass: HomeAssistant) -> ConfigFlowResult:
    """Start the user step and check its empty form."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert_translated(result)
    return result


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow(hass: HomeAssistant, simulator: Simulator) -> None:
    """Pasted values are stripped, checked once without a destination, and saved."""
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_TOKEN: f"  {ALL_TOKEN}\n",
            CONF_EXTENSION: f" {EXTENSION} ",
            CONF_URL: f"\t{simulator.url} ",
        },
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Extension {EXTENSION}"
    assert result["data"] == {
        CONF_API_TOKEN: ALL_TOKEN,
        CONF_EXTENSION: EXTENSION,
        CONF_URL: simulator.url,
    }
    assert result["result"].unique_id == EXTENSION
    assert len(simulator.requests) == 1
    request = simulator.requests[0]
    assert request.method == "POST"
    assert request.fields == {"auth": ALL_TOKEN, "extension": EXTENSION}
    assert "destination" not in request.fields
    assert simulator.calls == []


async def test_user_flow_sets_up_the_entry(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Without patching setup, the new entry loads; still nothing rings."""
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].state is ConfigEntryState.LOADED
    assert len(simulator.requests) == 2
    assert all("destination" not in r.fields for r in simulator.requests)
    assert simulator.calls == []


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_single_extension_token(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A token for one extension is accepted with any 7-digit extension."""
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        account(simulator, api_token=SINGLE_TOKEN, extension="5550123"),
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Extension 5550123"
    assert result["data"][CONF_API_TOKEN] == SINGLE_TOKEN
    assert result["result"].unique_id == "5550123"
    assert simulator.calls == []


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("changes", "fault", "errors", "requests"),
    [
        pytest.param(
            {CONF_API_TOKEN: "wrong-token"},
            None,
            {"base": "invalid_auth"},
            1,
            id="invalid_auth",
        ),
        pytest.param(
            {CONF_EXTENSION: "12345"},
            None,
            {CONF_EXTENSION: "invalid_extension"},
            0,
            id="malformed_extension",
        ),
        pytest.param(
            {CONF_EXTENSION: "12a4567"},
            None,
            {CONF_EXTENSION: "invalid_extension"},
            0,
            id="extension_with_letter",
        ),
        pytest.param(
            {CONF_EXTENSION: UNKNOWN_EXTENSION},
            None,
            {CONF_EXTENSION: "invalid_extension"},
            1,
            id="extension_refused",
        ),
        pytest.param(
            {CONF_URL: "ftp://127.0.0.1/api/0.9.3/call"},
            None,
            {CONF_URL: "invalid_url"},
            0,
            id="ftp_url",
        ),
        pytest.param(
            {CONF_URL: "not a url"}, None, {CONF_URL: "invalid_url"}, 0, id="not_a_url"
        ),
        pytest.param(
            {CONF_URL: "http://"}, None, {CONF_URL: "invalid_url"}, 0, id="no_host"
        ),
        pytest.param(
            {CONF_URL: "http://["}, None, {CONF_URL: "invalid_url"}, 0, id="bad_ipv6"
        ),
        pytest.param(
            {CONF_URL: "http://:8080/call"},
            None,
            {CONF_URL: "invalid_url"},
            0,
            id="empty_host_with_port",
        ),
        pytest.param(
            {CONF_URL: "http://127.0.0.1:99999/call"},
            None,
            {CONF_URL: "invalid_url"},
            0,
            id="port_out_of_range",
        ),
        pytest.param(
            {CONF_EXTENSION: "123", CONF_URL: "ftp://x"},
            None,
            {CONF_EXTENSION: "invalid_extension", CONF_URL: "invalid_url"},
            0,
            id="extension_and_url",
        ),
        pytest.param(
            {}, "html", {CONF_URL: "invalid_response"}, 1, id="invalid_response_html"
        ),
        pytest.param(
            {}, "http500", {CONF_URL: "invalid_response"}, 1, id="invalid_response_500"
        ),
        pytest.param({}, "drop", {"base": "cannot_connect"}, 1, id="cannot_connect"),
        pytest.param(
            {CONF_URL: "{closed}"},
            None,
            {"base": "cannot_connect"},
            0,
            id="cannot_connect_closed_port",
        ),
    ],
)
async def test_user_flow_error_then_recovery(
    hass: HomeAssistant,
    simulator: Simulator,
    closed_url: str,
    *,
    changes: dict[str, str],
    fault: str | None,
    errors: dict[str, str],
    requests: int,
) -> None:
    """Each error re-shows the form with what was typed; fixing it creates the entry."""
    user_input = account(
        simulator,
        **{key: value.format(closed=closed_url) for key, value in changes.items()},
    )
    simulator.set_fault(fault)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    assert_translated(result)
    # What was typed comes back, but never the token.
    assert suggested(result) == without_token(user_input)
    assert user_input[CONF_API_TOKEN] not in form_json(result)
    assert len(simulator.requests) == requests
    assert simulator.calls == []

    simulator.set_fault(None)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator)
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == account(simulator)
    assert simulator.calls == []


@pytest.mark.usefixtures("mock_setup_entry", "short_timeout")
async def test_user_flow_timeout_then_recovery(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A provider that does not answer in time is reported as cannot_connect."""
    simulator.set_fault(Fault(delay=0.5))
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator)
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert_translated(result)
    assert suggested(result) == without_token(account(simulator))
    # Let the simulator's slow handler finish rather than linger past the test.
    async with asyncio.timeout(5):
        while simulator.in_flight:
            await asyncio.sleep(0.05)

    simulator.set_fault(None)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator)
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_unknown_error_then_recovery(
    hass: HomeAssistant, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception shows `unknown` and is logged."""
    result = await start_user_flow(hass)

    # The one mock of these tests: no real reply makes the client raise anything but
    # its own errors, so an unexpected exception has to be injected.
    with patch.object(
        SpectronicsClient, "check_credentials", side_effect=RuntimeError("boom")
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], account(simulator)
        )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert_translated(result)
    assert suggested(result) == without_token(account(simulator))
    assert "Unexpected error while checking the credentials" in caplog.text

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator)
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_already_configured(
    hass: HomeAssistant, simulator: Simulator, mock_config_entry: MockConfigEntry
) -> None:
    """The same extension cannot be added twice; the provider is not asked."""
    mock_config_entry.add_to_hass(hass)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator, extension=f" {EXTENSION}")
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert_translated(result)
    assert simulator.requests == []


async def test_reauth_from_failed_setup(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A refused token starts re-authentication; a new token reloads the entry."""
    entry = make_entry(simulator.url, token="expired-token")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_TOKEN: f" {ALL_TOKEN} "}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data == account(simulator)
    assert entry.state is ConfigEntryState.LOADED
    assert simulator.requests[-1].fields == {"auth": ALL_TOKEN, "extension": EXTENSION}
    assert simulator.calls == []


async def test_reauth_error_then_recovery(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A wrong new token shows invalid_auth; the right one updates the entry."""
    simulator.tokens = {"rotated-token"}
    result = await init_integration.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["extension"] == EXTENSION
    assert_translated(result)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "wrong-token"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert_translated(result)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "rotated-token"}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert_translated(result)
    await hass.async_block_till_done()
    assert init_integration.data[CONF_API_TOKEN] == "rotated-token"
    assert init_integration.data[CONF_EXTENSION] == EXTENSION
    assert init_integration.state is ConfigEntryState.LOADED
    assert simulator.requests[-1].fields["auth"] == "rotated-token"
    assert simulator.calls == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("drop", "cannot_connect"),
        ("html", "invalid_response"),
        ("extension_refused", "invalid_extension"),
    ],
)
async def test_reauth_other_errors_shown_on_the_form(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    fault: str,
    error: str,
) -> None:
    """The reauth form has only the token: other errors go above it, not nowhere."""
    if fault == "extension_refused":
        simulator.extensions.discard(EXTENSION)
    else:
        simulator.set_fault(fault)
    result = await init_integration.start_reauth_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: ALL_TOKEN}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert_translated(result)

    simulator.set_fault(None)
    simulator.extensions.add(EXTENSION)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: ALL_TOKEN}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()


async def test_reconfigure(
    hass: HomeAssistant,
    simulator: Simulator,
    second_simulator: Simulator,
    init_integration: MockConfigEntry,
) -> None:
    """The URL and token can move to another provider; the entry reloads there."""
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert suggested(result) == without_token(account(simulator))
    assert ALL_TOKEN not in form_json(result)
    assert_translated(result)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_TOKEN: " second-token ",
            CONF_EXTENSION: EXTENSION,
            CONF_URL: f"{second_simulator.url}\n",
        },
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert_translated(result)
    await hass.async_block_till_done()
    assert init_integration.data == account(second_simulator, api_token="second-token")
    assert init_integration.unique_id == EXTENSION
    assert init_integration.title == f"Extension {EXTENSION}"
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.client.url == second_simulator.url
    # The flow's check, on the new provider; the running account took the change
    # without a reload, so without a second check. Nothing rang.
    assert len(second_simulator.requests) == 1
    assert second_simulator.calls == simulator.calls == []


async def test_reconfigure_extension(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Another extension of the account becomes the unique id and the title."""
    result = await init_integration.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator, extension=OTHER_EXTENSION)
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert init_integration.unique_id == OTHER_EXTENSION
    assert init_integration.title == f"Extension {OTHER_EXTENSION}"
    assert init_integration.data[CONF_EXTENSION] == OTHER_EXTENSION
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.client.extension == OTHER_EXTENSION


async def test_reconfigure_to_another_entrys_extension(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """Taking the extension of another entry aborts and changes nothing."""
    other = make_entry(simulator.url, extension=OTHER_EXTENSION)
    other.add_to_hass(hass)
    before = dict(init_integration.data)
    requests = len(simulator.requests)
    result = await init_integration.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator, extension=OTHER_EXTENSION)
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert_translated(result)
    assert init_integration.data == before
    assert init_integration.unique_id == EXTENSION
    assert init_integration.title == f"Extension {EXTENSION}"
    assert init_integration.state is ConfigEntryState.LOADED
    assert other.data[CONF_EXTENSION] == OTHER_EXTENSION
    assert len(simulator.requests) == requests


@pytest.mark.parametrize(
    ("changes", "fault", "errors"),
    [
        pytest.param(
            {CONF_API_TOKEN: "wrong-token"}, None, {"base": "invalid_auth"}, id="auth"
        ),
        pytest.param(
            {CONF_EXTENSION: "12345"},
            None,
            {CONF_EXTENSION: "invalid_extension"},
            id="malformed_extension",
        ),
        pytest.param(
            {CONF_EXTENSION: UNKNOWN_EXTENSION},
            None,
            {CONF_EXTENSION: "invalid_extension"},
            id="extension_refused",
        ),
        pytest.param(
            {CONF_URL: "ftp://127.0.0.1/"}, None, {CONF_URL: "invalid_url"}, id="url"
        ),
        pytest.param({}, "html", {CONF_URL: "invalid_response"}, id="response"),
        pytest.param({}, "drop", {"base": "cannot_connect"}, id="cannot_connect"),
    ],
)
async def test_reconfigure_error_then_recovery(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    *,
    changes: dict[str, str],
    fault: str | None,
    errors: dict[str, str],
) -> None:
    """Each error keeps the typed values and leaves the entry as it was."""
    before = dict(init_integration.data)
    result = await init_integration.start_reconfigure_flow(hass)
    simulator.set_fault(fault)
    user_input = account(simulator, **changes)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == errors
    assert_translated(result)
    assert suggested(result) == without_token(user_input)
    assert ALL_TOKEN not in form_json(result)
    assert user_input[CONF_API_TOKEN] not in form_json(result)
    assert init_integration.data == before
    assert init_integration.unique_id == EXTENSION

    simulator.set_fault(None)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator)
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert simulator.calls == []


async def test_reconfigure_over_the_api_never_sends_the_token(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: Simulator,
    init_integration: MockConfigEntry,
) -> None:
    """The browser gets a form without the token and may submit it without one."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_client()

    response = await client.post(
        "/api/config/config_entries/flow",
        json={"handler": DOMAIN, "entry_id": init_integration.entry_id},
    )

    assert response.status == 200
    text = await response.text()
    assert ALL_TOKEN not in text
    form = json.loads(text)
    assert form["step_id"] == "reconfigure"
    fields = {field["name"]: field for field in form["data_schema"]}
    assert fields[CONF_API_TOKEN].get("optional") is True
    assert "description" not in fields[CONF_API_TOKEN]
    assert fields[CONF_EXTENSION]["description"] == {"suggested_value": EXTENSION}
    assert fields[CONF_URL]["description"] == {"suggested_value": simulator.url}
    requests = len(simulator.requests)

    response = await client.post(
        f"/api/config/config_entries/flow/{form['flow_id']}",
        json={CONF_EXTENSION: EXTENSION, CONF_URL: simulator.url},
    )

    assert response.status == 200
    text = await response.text()
    assert ALL_TOKEN not in text
    result = json.loads(text)
    assert result["type"] == "abort"
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert init_integration.data == account(simulator)
    # The flow's check used the stored token.
    assert [r.fields for r in simulator.requests[requests:]] == [
        {"auth": ALL_TOKEN, "extension": EXTENSION}
    ]
    assert init_integration.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    "token",
    [pytest.param(None, id="left_out"), "", pytest.param("  \n", id="blank")],
)
async def test_reconfigure_empty_token_keeps_the_stored_one(
    hass: HomeAssistant,
    second_simulator: Simulator,
    init_integration: MockConfigEntry,
    token: str | None,
) -> None:
    """Moving to another URL without typing a token checks and keeps the stored one."""
    second_simulator.tokens.add(ALL_TOKEN)
    result = await init_integration.start_reconfigure_flow(hass)
    user_input = {CONF_EXTENSION: EXTENSION, CONF_URL: second_simulator.url}
    if token is not None:
        user_input[CONF_API_TOKEN] = token

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert init_integration.data == account(second_simulator)
    assert init_integration.state is ConfigEntryState.LOADED
    # The check reached the new URL with the stored token.
    assert [r.fields for r in second_simulator.requests] == [
        {"auth": ALL_TOKEN, "extension": EXTENSION}
    ]
    assert second_simulator.calls == []


async def test_reauth_keeps_the_call_in_flight(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """A new token reaches the running account: a ringing call is not cancelled."""
    simulator.ring_time = 0.3
    simulator.tokens.add("rotated-token")
    dialer = init_integration.runtime_data
    ringing = hass.async_create_task(
        place_call(
            hass,
            {"destination": "2001", "wait": True},
            return_response=True,
        )
    )
    await until(lambda: simulator.in_flight)

    result = await init_integration.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "rotated-token"}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    response = await ringing
    assert response is not None
    assert response["success"] is True
    assert response["message"] == "Call answered"
    await hass.async_block_till_done()
    # Not reloaded: the same dialer, now sending with the new token.
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data is dialer
    await place_call(hass, {"destination": "2002"})
    assert [call["auth"] for call in simulator.calls] == [ALL_TOKEN, "rotated-token"]


async def test_reconfigure_moves_the_next_call(
    hass: HomeAssistant,
    second_simulator: Simulator,
    init_integration: MockConfigEntry,
) -> None:
    """The next call goes to the new URL, from the new extension; the device follows."""
    second_simulator.extensions = {OTHER_EXTENSION}
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        account(second_simulator, api_token="second-token", extension=OTHER_EXTENSION),
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    await place_call(hass, {"destination": "2001"})

    assert second_simulator.calls == [
        {
            "auth": "second-token",
            "extension": OTHER_EXTENSION,
            "destination": "2001",
            "reverse": "0",
            "wait": "0",
        }
    ]
    device = entry_device(hass, init_integration)
    assert device is not None
    assert device.name == f"Extension {OTHER_EXTENSION}"


async def test_reconfigure_an_account_that_could_not_set_up(
    hass: HomeAssistant, simulator: Simulator, closed_url: str
) -> None:
    """An account waiting to retry has no listener: the new URL reloads it."""
    entry = make_entry(closed_url)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    result = await entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator)
    )

    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.client.url == simulator.url
    # The flow's check, then the set-up's: neither rang.
    assert len(simulator.requests) == 2
    assert simulator.calls == []


@pytest.mark.parametrize("recovery", ["new_token", "stored_token"])
async def test_reconfigure_wrong_new_token_then_recovery(
    hass: HomeAssistant,
    simulator: Simulator,
    init_integration: MockConfigEntry,
    recovery: str,
) -> None:
    """A new token is checked: a wrong one is invalid_auth and comes back to nobody."""
    before = dict(init_integration.data)
    result = await init_integration.start_reconfigure_flow(hass)
    requests = len(simulator.requests)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account(simulator, api_token="wrong-new-token")
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "invalid_auth"}
    assert_translated(result)
    assert suggested(result) == without_token(account(simulator))
    assert "wrong-new-token" not in form_json(result)
    assert ALL_TOKEN not in form_json(result)
    assert [r.fields["auth"] for r in simulator.requests[requests:]] == [
        "wrong-new-token"
    ]
    assert init_integration.data == before
    assert init_integration.state is ConfigEntryState.LOADED

    if recovery == "new_token":
        simulator.tokens.add("rotated-new-token")
        expected = "rotated-new-token"
        user_input = account(simulator, api_token=expected)
    else:
        expected = ALL_TOKEN
        user_input = without_token(account(simulator))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert init_integration.data == account(simulator, api_token=expected)
    assert init_integration.state is ConfigEntryState.LOADED
    assert simulator.requests[-1].fields == {"auth": expected, "extension": EXTENSION}
    assert simulator.calls == []


async def test_options_flow(
    hass: HomeAssistant, simulator: Simulator, init_integration: MockConfigEntry
) -> None:
    """The call defaults are saved, the caller name stripped; nothing is sent."""
    requests = len(simulator.requests)
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert_translated(result, "options")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_CIDNAME: "  Front door ",
            CONF_CONNECT_TO: " 07700 900123 ",
            CONF_WAIT: True,
            CONF_WAIT_TIMEOUT: 30,
        },
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    expected = {
        CONF_CIDNAME: "Front door",
        CONF_CONNECT_TO: "07700900123",
        CONF_WAIT: True,
        CONF_WAIT_TIMEOUT: 30,
        **RAIL_DEFAULTS,
    }
    assert result["data"] == expected
    assert init_integration.options == expected
    assert len(simulator.requests) == requests

    # Opened again, the form suggests the saved values.
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert suggested(result) == expected


async def test_options_flow_without_cidname(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Leaving the caller name out saves an empty one."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_WAIT: False, CONF_WAIT_TIMEOUT: 120}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options == {
        CONF_CIDNAME: "",
        CONF_CONNECT_TO: "",
        CONF_WAIT: False,
        CONF_WAIT_TIMEOUT: 120,
        **RAIL_DEFAULTS,
    }


async def test_options_flow_invalid_connect_to_then_recovery(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A "connect to" that is not a number is a field error; then it is fixed."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    user_input = {CONF_CONNECT_TO: "my mobile", CONF_WAIT: False, CONF_WAIT_TIMEOUT: 60}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CONNECT_TO: "invalid_connect_to"}
    assert_translated(result, "options")
    assert init_integration.options == {}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**user_input, CONF_CONNECT_TO: "+44 7700 900123"}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_CONNECT_TO] == "+447700900123"


@pytest.mark.parametrize(
    "cidname",
    [
        pytest.param("x" * 41, id="41_characters"),
        pytest.param("Front\x07door", id="control_character"),
        pytest.param("Front\ndoor", id="newline"),
    ],
)
async def test_options_flow_invalid_cidname_then_recovery(
    hass: HomeAssistant, init_integration: MockConfigEntry, cidname: str
) -> None:
    """A caller name the provider would refuse is a field error; then it is fixed."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    user_input = {CONF_CIDNAME: cidname, CONF_WAIT: True, CONF_WAIT_TIMEOUT: 60}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert result["errors"] == {CONF_CIDNAME: "invalid_cidname"}
    assert_translated(result, "options")
    assert suggested(result) == user_input | RAIL_FORM_DEFAULTS
    assert init_integration.options == {}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**user_input, CONF_CIDNAME: "x" * 40}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_CIDNAME] == "x" * 40
