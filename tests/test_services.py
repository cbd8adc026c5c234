"""Tests for the spectronics_voip.place_call action, over real HTTP to the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import json
import logging
import traceback
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
import voluptuous as vol

from custom_components.spectronics_voip.api import SpectronicsError
from custom_components.spectronics_voip.const import (
    CONF_CIDNAME,
    CONF_WAIT,
    CONF_WAIT_TIMEOUT,
    DOMAIN,
    EVENT_CALL_RESULT,
    SERVICE_PLACE_CALL,
)
from custom_components.spectronics_voip.services import PLACE_CALL_SCHEMA
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_TOKEN, EVENT_LOGGING_CHANGED, MATCH_ALL
from homeassistant.core import Event, HomeAssistant, ServiceResponse, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component

from .common import (
    EXCEPTIONS,
    INTEGRATION,
    RESULT_KEYS,
    TRANSLATIONS,
    call_result,
    entry_device,
    make_entry,
    place_call,
    set_up_entry,
    translated,
)
from .known_secrets import exception_texts, record_texts
from .simulator import (
    ALL_TOKEN,
    EXTENSION,
    OTHER_EXTENSION,
    SINGLE_TOKEN,
    Answer,
    Fault,
    Simulator,
)

DESTINATION = "+44 (0)20-1234.5678"
NORMALIZED = "+4402012345678"
OTHER_DESTINATION = "+4402012345679"
FORM = "application/x-www-form-urlencoded"

type Arrange = Callable[
    [HomeAssistant, MockConfigEntry, Simulator], Awaitable[dict[str, Any]]
]


def _wire(**fields: str) -> dict[str, str]:
    """Return the form the provider should receive for the default entry."""
    return {
        "auth": ALL_TOKEN,
        "extension": EXTENSION,
        "destination": NORMALIZED,
        "reverse": "0",
        "wait": "0",
    } | fields


def _one_request(simulator: Simulator, before: int) -> dict[str, str]:
    """Assert the action sent exactly one form POST; return its fields."""
    assert len(simulator.requests) == before + 1
    request = simulator.requests[-1]
    assert request.method == "POST"
    assert request.content_type == FORM
    assert request.query == {}
    return request.fields


def _entry(simulator: Simulator, extension: str, token: str) -> MockConfigEntry:
    """Return an entry for one extension on the simulator."""
    return make_entry(simulator.url, extension=extension, token=token)


async def _set_options(
    hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any]
) -> None:
    """Replace the entry's options."""
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


@pytest.fixture
async def other_entry(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    request: pytest.FixtureRequest,
) -> MockConfigEntry:
    """Set up a second entry for OTHER_EXTENSION (token from the param, default all)."""
    token = getattr(request, "param", ALL_TOKEN)
    return await set_up_entry(hass, _entry(simulator, OTHER_EXTENSION, token))


# ---------------------------------------------------------------------------
# Parameters on the wire
# ---------------------------------------------------------------------------


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({}, _wire(), id="destination-only"),
        pytest.param(
            {"destination": "441234567890"},
            _wire(destination="441234567890"),
            id="destination-plain",
        ),
        pytest.param(
            {"destination": "*#21#"}, _wire(destination="*#21#"), id="destination-codes"
        ),
        pytest.param(
            {"extension": OTHER_EXTENSION},
            _wire(extension=OTHER_EXTENSION),
            id="extension-override",
        ),
        pytest.param({"extension": ""}, _wire(), id="extension-empty-uses-entry"),
        pytest.param(
            {"cidname": "ALARM: KITCHEN SMOKE"},
            _wire(cidname="ALARM: KITCHEN SMOKE"),
            id="cidname",
        ),
        pytest.param({"cidname": ""}, _wire(), id="cidname-empty-omitted"),
        pytest.param({"reverse": True}, _wire(reverse="1"), id="reverse-true"),
        pytest.param({"reverse": False}, _wire(reverse="0"), id="reverse-false"),
        pytest.param({"reverse": "on"}, _wire(reverse="1"), id="reverse-on"),
        pytest.param(
            {"source": "07700 900-123"}, _wire(source="07700900123"), id="source"
        ),
        pytest.param({"source": ""}, _wire(), id="source-empty-omitted"),
        pytest.param({"wait": True}, _wire(wait="1"), id="wait-true"),
        pytest.param({"wait": False}, _wire(wait="0"), id="wait-false"),
        pytest.param({"wait": "off"}, _wire(wait="0"), id="wait-off"),
        pytest.param(
            {
                "extension": OTHER_EXTENSION,
                "cidname": "Front door",
                "reverse": True,
                "source": "+44 7700 900123",
                "wait": True,
            },
            _wire(
                extension=OTHER_EXTENSION,
                cidname="Front door",
                reverse="1",
                source="+447700900123",
                wait="1",
            ),
            id="everything",
        ),
    ],
)
async def test_fields_reach_the_wire(
    hass: HomeAssistant,
    simulator: Simulator,
    data: dict[str, Any],
    expected: dict[str, str],
) -> None:
    """Each field reaches the provider exactly; fields not given are not sent."""
    before = len(simulator.requests)

    await place_call(hass, {"destination": DESTINATION} | data)

    assert _one_request(simulator, before) == expected
    assert simulator.calls[-1] == expected


async def test_options_are_defaults(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The entry's options fill in the fields a call leaves out."""
    await _set_options(
        hass,
        init_integration,
        {CONF_CIDNAME: "Front door", CONF_WAIT: True, CONF_WAIT_TIMEOUT: 30},
    )
    before = len(simulator.requests)

    response = await place_call(
        hass, {"destination": DESTINATION}, return_response=True
    )

    assert _one_request(simulator, before) == _wire(cidname="Front door", wait="1")
    assert response is not None
    assert response["cidname"] == "Front door"
    assert response["wait"] is True
    assert response["message"] == "Call answered"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            {"cidname": "Back door"},
            _wire(cidname="Back door", wait="1"),
            id="cidname",
        ),
        pytest.param({"cidname": ""}, _wire(wait="1"), id="cidname-cleared"),
        pytest.param({"wait": False}, _wire(cidname="Front door", wait="0"), id="wait"),
        pytest.param(
            {"cidname": "Back door", "wait": False},
            _wire(cidname="Back door"),
            id="both",
        ),
    ],
)
async def test_call_overrides_options(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    data: dict[str, Any],
    expected: dict[str, str],
) -> None:
    """A call's own values win over the entry's options."""
    await _set_options(
        hass,
        init_integration,
        {CONF_CIDNAME: "Front door", CONF_WAIT: True, CONF_WAIT_TIMEOUT: 30},
    )
    before = len(simulator.requests)

    await place_call(hass, {"destination": DESTINATION} | data)

    assert _one_request(simulator, before) == expected


async def test_wait_timeout_option_bounds_waiting_calls_only(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The wait_timeout option limits a waiting call, not an immediate one."""
    await _set_options(hass, init_integration, {CONF_WAIT_TIMEOUT: 0.1})
    simulator.set_fault(Fault(delay=0.3, then_model=True))

    response = await place_call(
        hass, {"destination": DESTINATION, "wait": False}, return_response=True
    )
    assert response is not None
    assert response["success"] is True

    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": OTHER_DESTINATION, "wait": True})
    assert exc_info.value.translation_key == "call_failed_timeout"
    assert exc_info.value.translation_placeholders == {
        "message": "no reply within 0.1 s"
    }


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param({"destination": "call me"}, "invalid_destination", id="dest-text"),
        pytest.param({"destination": ""}, "invalid_destination", id="dest-empty"),
        pytest.param(
            {"destination": " - "}, "invalid_destination", id="dest-separators"
        ),
        pytest.param({"destination": "12+34"}, "invalid_destination", id="dest-plus"),
        pytest.param({"destination": "1" * 33}, "invalid_destination", id="dest-long"),
        pytest.param({"source": "me"}, "invalid_source", id="source-text"),
        pytest.param({"source": "2" * 33}, "invalid_source", id="source-long"),
        pytest.param({"extension": "123456"}, "invalid_extension", id="ext-short"),
        pytest.param({"extension": "12345678"}, "invalid_extension", id="ext-long"),
        pytest.param({"extension": "12345a7"}, "invalid_extension", id="ext-letter"),
        pytest.param({"cidname": "x" * 41}, "invalid_cidname", id="cidname-long"),
        pytest.param({"cidname": "Front\ndoor"}, "invalid_cidname", id="cidname-ctrl"),
    ],
)
async def test_validation_errors(
    hass: HomeAssistant, simulator: Simulator, data: dict[str, Any], key: str
) -> None:
    """Bad input raises a translated ServiceValidationError; nothing is sent or fired."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as exc_info:
        await place_call(
            hass, {"destination": DESTINATION} | data, return_response=True
        )

    err = exc_info.value
    assert err.translation_domain == DOMAIN
    assert err.translation_key == key
    assert str(err) == translated(key)
    assert isinstance(err.__cause__, SpectronicsError)
    await hass.async_block_till_done()
    assert len(simulator.requests) == before
    assert simulator.calls == []
    assert events == []


async def test_invalid_cidname_option(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """An invalid caller name in the options is refused like one in the call."""
    await _set_options(hass, init_integration, {CONF_CIDNAME: "y" * 41})
    before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as exc_info:
        await place_call(hass, {"destination": DESTINATION})

    assert exc_info.value.translation_key == "invalid_cidname"
    assert len(simulator.requests) == before

    await place_call(hass, {"destination": DESTINATION, "cidname": "Override"})
    assert _one_request(simulator, before) == _wire(cidname="Override")


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="no-destination"),
        pytest.param({"destination": {"number": "1"}}, id="destination-not-text"),
        pytest.param({"destination": "1", "wait": "maybe"}, id="wait-not-boolean"),
        pytest.param({"destination": "1", "reverse": "sometimes"}, id="reverse-bad"),
        pytest.param({"destination": "1", "auth": "any"}, id="unknown-field"),
    ],
)
async def test_schema_errors(
    hass: HomeAssistant, simulator: Simulator, data: dict[str, Any]
) -> None:
    """Input the schema refuses never reaches the handler or the provider."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(vol.Invalid):
        await place_call(hass, data)

    assert len(simulator.requests) == before
    assert events == []


# ---------------------------------------------------------------------------
# Entry selection
# ---------------------------------------------------------------------------


async def test_entry_optional_with_one_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """With exactly one loaded entry, naming it is optional; naming it works too."""
    # An entry that is added but not loaded does not count.
    _entry(simulator, OTHER_EXTENSION, ALL_TOKEN).add_to_hass(hass)

    first = await place_call(hass, {"destination": DESTINATION}, return_response=True)
    second = await place_call(
        hass,
        {
            "destination": OTHER_DESTINATION,
            "config_entry_id": init_integration.entry_id,
        },
        return_response=True,
    )

    assert first is not None
    assert second is not None
    assert first | {"destination": OTHER_DESTINATION} == second
    assert first["config_entry_id"] == init_integration.entry_id
    assert [r.fields["auth"] for r in simulator.requests[-2:]] == [ALL_TOKEN] * 2


@pytest.mark.usefixtures("other_entry")
async def test_entry_required_with_two_loaded(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """With two loaded entries, a call must name one."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as exc_info:
        await place_call(hass, {"destination": DESTINATION})

    err = exc_info.value
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "entry_required"
    assert err.translation_placeholders == {"count": "2"}
    assert str(err) == translated("entry_required", {"count": "2"})
    assert len(simulator.requests) == before
    assert events == []


async def test_entry_required_with_none_loaded(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The action exists without entries, and asks for one."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert hass.services.has_service(DOMAIN, SERVICE_PLACE_CALL)

    with pytest.raises(ServiceValidationError) as exc_info:
        await place_call(hass, {"destination": DESTINATION})

    assert exc_info.value.translation_key == "entry_required"
    assert exc_info.value.translation_placeholders == {"count": "0"}
    assert simulator.requests == []


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize("foreign", [False, True], ids=["unknown", "other-domain"])
async def test_entry_not_found(
    hass: HomeAssistant, simulator: Simulator, foreign: bool
) -> None:
    """An unknown entry, or one of another integration, is not found."""
    entry_id = "0123456789abcdef"
    if foreign:
        other = MockConfigEntry(domain="other_integration", title="Other")
        other.add_to_hass(hass)
        entry_id = other.entry_id
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as exc_info:
        await place_call(
            hass, {"destination": DESTINATION, "config_entry_id": entry_id}
        )

    err = exc_info.value
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "entry_not_found"
    assert err.translation_placeholders == {"entry_id": entry_id}
    assert str(err) == translated("entry_not_found", {"entry_id": entry_id})
    assert len(simulator.requests) == before
    assert events == []


@pytest.mark.parametrize("unload", [False, True], ids=["never-set-up", "unloaded"])
async def test_entry_not_loaded(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    unload: bool,
) -> None:
    """An entry of this integration that is not loaded is refused."""
    entry = init_integration
    if unload:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    else:
        entry = _entry(simulator, OTHER_EXTENSION, ALL_TOKEN)
        entry.add_to_hass(hass)
    assert entry.state is ConfigEntryState.NOT_LOADED
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as exc_info:
        await place_call(
            hass, {"destination": DESTINATION, "config_entry_id": entry.entry_id}
        )

    err = exc_info.value
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "entry_not_loaded"
    assert err.translation_placeholders == {"title": entry.title}
    assert str(err) == translated("entry_not_loaded", {"title": entry.title})
    assert len(simulator.requests) == before
    assert events == []


@pytest.mark.parametrize(
    "other_entry",
    [ALL_TOKEN, SINGLE_TOKEN],
    ids=["all-token", "single-token"],
    indirect=True,
)
async def test_each_entry_uses_its_own_account(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    other_entry: MockConfigEntry,
    simulator: Simulator,
) -> None:
    """Each call goes out with the token and extension of the entry it names."""
    token = other_entry.data[CONF_API_TOKEN]
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    for entry, auth, extension, destination in (
        (init_integration, ALL_TOKEN, EXTENSION, "100"),
        (other_entry, token, OTHER_EXTENSION, "100"),
        (init_integration, ALL_TOKEN, EXTENSION, "101"),
    ):
        before = len(simulator.requests)
        response = await place_call(
            hass,
            {"destination": destination, "config_entry_id": entry.entry_id},
            return_response=True,
        )
        assert _one_request(simulator, before) == _wire(
            auth=auth, extension=extension, destination=destination
        )
        assert response is not None
        assert response["config_entry_id"] == entry.entry_id
        assert response["extension"] == extension
        assert response["success"] is True

    assert [event.data["config_entry_id"] for event in events] == [
        init_integration.entry_id,
        other_entry.entry_id,
        init_integration.entry_id,
    ]


# ---------------------------------------------------------------------------
# Response data and events
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            {},
            {
                "extension": EXTENSION,
                "source": None,
                "cidname": None,
                "reverse": False,
                "wait": False,
                "rings_first": EXTENSION,
                "message": "Call request sent",
            },
            id="defaults",
        ),
        pytest.param(
            {
                "extension": OTHER_EXTENSION,
                "source": "07700 900123",
                "cidname": "Front door",
                "reverse": True,
                "wait": True,
            },
            {
                "extension": OTHER_EXTENSION,
                "source": "07700900123",
                "cidname": "Front door",
                "reverse": True,
                "wait": True,
                "rings_first": "07700900123",
                "message": "Call answered",
            },
            id="everything",
        ),
    ],
)
async def test_response_and_event_on_success(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    data: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    """A placed call returns its result and fires exactly one matching event."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    response = await place_call(
        hass, {"destination": DESTINATION} | data, return_response=True
    )

    assert (
        response
        == {
            "config_entry_id": init_integration.entry_id,
            "contact": None,
            "ring_first": None,
            "destination": NORMALIZED,
            "suppressed": False,
            "success": True,
            "error": None,
        }
        | expected
    )
    await hass.async_block_till_done()
    assert len(events) == 1
    assert call_result(events[0]) == response
    # The logbook files it under the account's Last call and the account's device.
    device = entry_device(hass, init_integration)
    assert device is not None
    assert events[0].data["entity_id"] == "event.extension_1234567_last_call"
    assert events[0].data["device_id"] == device.id


async def test_no_response_without_return_response(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Without return_response the call returns None but still fires its event."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    assert await place_call(hass, {"destination": DESTINATION}) is None

    _one_request(simulator, before)
    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data["success"] is True
    assert events[0].data["message"] == "Call request sent"


def _fault(name: str) -> Arrange:
    """Return an arrangement that applies one of the simulator's named faults."""

    async def arrange(
        hass: HomeAssistant, entry: MockConfigEntry, simulator: Simulator
    ) -> dict[str, Any]:
        simulator.set_fault(name)
        return {}

    return arrange


async def _wrong_token(
    hass: HomeAssistant, entry: MockConfigEntry, simulator: Simulator
) -> dict[str, Any]:
    """Make the provider refuse the entry's token from now on."""
    simulator.tokens.clear()
    return {}


async def _rejected(
    hass: HomeAssistant, entry: MockConfigEntry, simulator: Simulator
) -> dict[str, Any]:
    """Ring a source first that rejects the call."""
    return {"source": "+44 20 7946 0486", "wait": True}


async def _stopped(
    hass: HomeAssistant, entry: MockConfigEntry, simulator: Simulator
) -> dict[str, Any]:
    """Stop serving."""
    await simulator.stop()
    return {}


async def _slow_reply(
    hass: HomeAssistant, entry: MockConfigEntry, simulator: Simulator
) -> dict[str, Any]:
    """Answer later than the client's request timeout."""
    entry.runtime_data.client.request_timeout = 0.1
    simulator.set_fault(Fault(delay=0.4))
    return {}


async def _slow_answer(
    hass: HomeAssistant, entry: MockConfigEntry, simulator: Simulator
) -> dict[str, Any]:
    """Ring for longer than the wait_timeout option."""
    hass.config_entries.async_update_entry(entry, options={CONF_WAIT_TIMEOUT: 0.1})
    simulator.ring_time = 0.4
    return {"wait": True}


@pytest.mark.parametrize(
    ("arrange", "category", "message", "requests"),
    [
        pytest.param(_wrong_token, "auth", "Invalid authentication", 1, id="auth"),
        pytest.param(_rejected, "api", "Call rejected", 1, id="api"),
        pytest.param(_fault("drop"), "connection", None, 1, id="connection-drop"),
        pytest.param(_stopped, "connection", None, 0, id="connection-stopped"),
        pytest.param(_slow_reply, "timeout", "no reply within 0.1 s", 1, id="timeout"),
        pytest.param(
            _slow_answer, "timeout", "no reply within 0.1 s", 1, id="timeout-wait"
        ),
        pytest.param(
            _fault("html"),
            "invalid_response",
            "reply is not an OK: or ERR: line",
            1,
            id="invalid-html",
        ),
        pytest.param(
            _fault("http500"),
            "invalid_response",
            "unexpected HTTP status 500",
            1,
            id="invalid-http500",
        ),
    ],
)
async def test_failures(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    *,
    arrange: Arrange,
    category: str,
    message: str | None,
    requests: int,
) -> None:
    """A failed call fires one event and raises a translated HomeAssistantError."""
    data = {"destination": "+44 20 7946 0000"} | await arrange(
        hass, init_integration, simulator
    )
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, data, return_response=True)

    err = exc_info.value
    assert not isinstance(err, ServiceValidationError)
    assert err.translation_domain == DOMAIN
    assert err.translation_key == f"call_failed_{category}"
    assert isinstance(err.__cause__, SpectronicsError)
    assert err.__cause__.category == category
    assert err.translation_placeholders == {"message": str(err.__cause__)}
    if message is not None:
        assert err.translation_placeholders == {"message": message}
    assert err.translation_placeholders["message"]
    assert str(err) == translated(
        f"call_failed_{category}", err.translation_placeholders
    )
    assert len(simulator.requests) == before + requests

    await hass.async_block_till_done()
    assert len(events) == 1
    event = call_result(events[0])
    assert set(event) == set(RESULT_KEYS)
    source = data["source"].replace(" ", "") if "source" in data else None
    assert event == {
        "config_entry_id": init_integration.entry_id,
        "contact": None,
        "ring_first": None,
        "extension": EXTENSION,
        "destination": data["destination"].replace(" ", ""),
        "source": source,
        "cidname": None,
        "reverse": False,
        "wait": data.get("wait", False),
        "rings_first": source or EXTENSION,
        "suppressed": False,
        "success": False,
        "message": err.translation_placeholders["message"],
        "error": category,
    }


async def test_auth_failure_starts_reauth(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """A refused token during a call starts one re-authentication flow."""
    assert not list(init_integration.async_get_active_flows(hass, {SOURCE_REAUTH}))
    simulator.tokens.clear()

    for _ in range(2):
        with pytest.raises(HomeAssistantError, match="Invalid authentication"):
            await place_call(hass, {"destination": DESTINATION})
    await hass.async_block_till_done()

    flows = list(init_integration.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert len(flows) == 1
    assert flows[0]["handler"] == DOMAIN
    assert flows[0]["context"]["source"] == SOURCE_REAUTH
    assert flows[0]["context"]["entry_id"] == init_integration.entry_id
    assert init_integration.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    "arrange",
    [_rejected, _fault("drop"), _fault("html")],
    ids=["api", "connection", "invalid"],
)
async def test_other_failures_do_not_start_reauth(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    arrange: Arrange,
) -> None:
    """Only an authentication failure asks for a new token."""
    data = {"destination": DESTINATION} | await arrange(
        hass, init_integration, simulator
    )

    with pytest.raises(HomeAssistantError):
        await place_call(hass, data)
    await hass.async_block_till_done()

    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []


@pytest.mark.parametrize(
    ("data", "answers", "success", "message"),
    [
        pytest.param({}, "answer", True, "Call answered", id="answered"),
        pytest.param({}, "reject", False, "Call rejected", id="rejected"),
        pytest.param({}, "timeout", False, "Call timed out", id="timed-out"),
        # The destination never answers: your extension did, and that is what
        # wait reports in the default order.
        pytest.param(
            {"destination": "+441234567486"},
            "answer",
            True,
            "Call answered",
            id="destination-not-reported",
        ),
        pytest.param(
            {"source": "07700900123"},
            "timeout",
            True,
            "Call answered",
            id="source-answers",
        ),
    ],
)
async def test_wait_outcomes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    *,
    data: dict[str, Any],
    answers: Answer,
    success: bool,
    message: str,
) -> None:
    """With wait, the reply reports whether the phone rung first answered.

    `answers` is what the account's extension does when it rings.
    """
    simulator.phones[EXTENSION] = answers
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)
    data = {"destination": "+441234567890", "wait": True} | data

    if success:
        response = await place_call(hass, data, return_response=True)
        assert response is not None
        assert response["message"] == message
    else:
        with pytest.raises(HomeAssistantError) as exc_info:
            await place_call(hass, data, return_response=True)
        assert exc_info.value.translation_key == "call_failed_api"
        assert exc_info.value.translation_placeholders == {"message": message}

    assert _one_request(simulator, before) == _wire(
        **{key: str(value) for key, value in data.items() if key != "wait"}, wait="1"
    )
    await hass.async_block_till_done()
    assert [(e.data["success"], e.data["message"]) for e in events] == [
        (success, message)
    ]
    assert events[0].data["error"] == (None if success else "api")
    assert events[0].data["rings_first"] == data.get("source", EXTENSION)


async def _until_ringing(simulator: Simulator) -> None:
    """Wait until the provider holds a request open."""
    async with asyncio.timeout(5):
        while not simulator.in_flight:
            await asyncio.sleep(0.01)


async def test_unload_cancels_a_call_in_flight(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Unloading the entry cancels its call: one event, a translated error."""
    simulator.ring_time = 0.5
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    call = hass.async_create_task(
        place_call(hass, {"destination": DESTINATION, "wait": True})
    )
    await _until_ringing(simulator)

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(HomeAssistantError) as exc_info:
        await call

    err = exc_info.value
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "call_failed_cancelled"
    assert err.translation_placeholders is not None
    assert str(err) == translated("call_failed_cancelled", err.translation_placeholders)
    await hass.async_block_till_done()
    assert len(events) == 1
    assert set(call_result(events[0])) == set(RESULT_KEYS)
    assert events[0].data["success"] is False
    assert events[0].data["error"] == "cancelled"
    assert events[0].data["message"] == err.translation_placeholders["message"]
    assert len(simulator.requests) == 2  # the credentials check and the call


async def test_caller_that_stops_waiting_does_not_cancel_the_call(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Cancelling the caller leaves the call to finish and report its result."""
    simulator.ring_time = 0.2
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    call = hass.async_create_task(
        place_call(hass, {"destination": DESTINATION, "wait": True})
    )
    await _until_ringing(simulator)

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert events == []

    # The call is a background task of the entry, which block_till_done skips.
    async with asyncio.timeout(5):
        while not events:
            await asyncio.sleep(0.01)
    await hass.async_block_till_done()
    assert [(e.data["success"], e.data["message"]) for e in events] == [
        (True, "Call answered")
    ]
    assert simulator.calls[-1] == _wire(wait="1")


async def test_unexpected_error_still_fires_one_event(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """An error the client does not type is raised as is, after an event."""
    await _set_options(hass, init_integration, {CONF_WAIT_TIMEOUT: "soon"})
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    with pytest.raises(TypeError):
        await place_call(hass, {"destination": DESTINATION, "wait": True})

    await hass.async_block_till_done()
    assert len(events) == 1
    assert set(call_result(events[0])) == set(RESULT_KEYS)
    assert events[0].data["success"] is False
    assert events[0].data["error"] == "unknown"
    assert events[0].data["message"]


# ---------------------------------------------------------------------------
# The token never leaves the client
# ---------------------------------------------------------------------------


async def test_token_never_leaks_at_debug(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At DEBUG, the token is in no log record, event, response or exception text."""
    caplog.set_level(logging.DEBUG)
    # The bus reads whether to log events at DEBUG only when logging changes.
    hass.bus.async_fire(EVENT_LOGGING_CHANGED)
    events: list[Event] = []

    @callback
    def _capture(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(MATCH_ALL, _capture)
    entry = await set_up_entry(hass, mock_config_entry)
    responses: list[ServiceResponse] = []
    errors: list[HomeAssistantError] = []

    async def _fails(data: dict[str, Any]) -> None:
        with pytest.raises(HomeAssistantError) as exc_info:
            await place_call(hass, data, return_response=True)
        errors.append(exc_info.value)

    responses.append(
        await place_call(
            hass,
            {"destination": DESTINATION, "cidname": "Leak check", "wait": True},
            return_response=True,
        )
    )
    await _fails({"source": "0123486", "destination": "2001", "wait": True})  # api
    await _fails({"destination": "not a number"})  # validation
    await _fails({"destination": DESTINATION, "extension": "12"})  # validation
    simulator.set_fault("drop")
    await _fails({"destination": DESTINATION})  # connection
    simulator.set_fault("html")
    await _fails({"destination": DESTINATION})  # invalid response
    simulator.set_fault(None)
    simulator.tokens.clear()
    await _fails({"destination": DESTINATION})  # auth, starts re-authentication
    await simulator.stop()
    await _fails({"destination": DESTINATION})  # connection refused
    await hass.async_block_till_done()

    # The token did go out: every request that reached the provider carried it.
    assert simulator.requests
    assert all(r.fields["auth"] == ALL_TOKEN for r in simulator.requests)
    assert [type(err).__name__ for err in errors].count("ServiceValidationError") == 2
    assert {err.translation_key for err in errors} >= {
        "call_failed_api",
        "call_failed_auth",
        "call_failed_connection",
        "call_failed_invalid_response",
        "invalid_destination",
        "invalid_extension",
    }
    assert list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))

    material = {
        "logs": [text for r in caplog.records for text in record_texts(r)]
        + [caplog.text],
        "events": [f"{e.event_type} {e.data!r} {e!r}" for e in events],
        "responses": [repr(response) for response in responses],
        "errors": [text for err in errors for text in exception_texts(err)],
        "flows": [repr(hass.config_entries.flow.async_progress())],
        "client": [repr(entry.runtime_data.client)],
    }
    # Capture works: each channel holds what it should, including the destination.
    assert NORMALIZED in " ".join(material["logs"])
    assert EVENT_CALL_RESULT in " ".join(material["logs"])
    assert NORMALIZED in " ".join(material["events"])
    assert "Leak check" in " ".join(material["responses"])
    assert "Invalid authentication" in " ".join(material["errors"])
    assert "Call rejected" in " ".join(material["errors"])
    assert SOURCE_REAUTH in " ".join(material["flows"])
    leaks = {
        channel: [text for text in texts if ALL_TOKEN in text]
        for channel, texts in material.items()
    }
    assert leaks == dict.fromkeys(material, [])


# ---------------------------------------------------------------------------
# Static declarations
# ---------------------------------------------------------------------------


def test_place_call_has_an_icon_and_translations() -> None:
    """icons.json gives the action an icon; en.json names it and each field."""
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert icons["services"][SERVICE_PLACE_CALL]["service"].startswith("mdi:")

    strings = TRANSLATIONS
    service = strings["services"][SERVICE_PLACE_CALL]
    assert service["name"]
    assert service["description"]
    assert set(service["fields"]) == {str(key) for key in PLACE_CALL_SCHEMA.schema}
    for field in service["fields"].values():
        assert field["name"]
        assert field["description"]


def test_exception_translations_have_messages() -> None:
    """Every exception text is under `message`, as Home Assistant looks it up."""
    keys = {
        "entry_required",
        "entry_not_found",
        "entry_not_loaded",
        "invalid_destination",
        "invalid_source",
        "invalid_extension",
        "invalid_cidname",
    } | {
        f"call_failed_{category}"
        for category in (
            "auth",
            "api",
            "connection",
            "timeout",
            "invalid_response",
            "cancelled",
        )
    }
    assert keys <= set(EXCEPTIONS)
    for key, value in EXCEPTIONS.items():
        assert isinstance(value, dict), key
        assert set(value) == {"message"}, key


# ---------------------------------------------------------------------------
# The call path
# ---------------------------------------------------------------------------


async def test_the_call_path_from_the_handler_to_the_post(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Five of the integration's frames from the action's handler to session.post.

    The call runs in a task of its entry (so that a caller leaving cannot abort it):
    its frames are in that task, the handler's in the task awaiting it.
    """
    seen: list[list[str]] = []
    post = aiohttp.ClientSession.post

    def counting_post(session: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> Any:
        frames = [
            (summary.filename, summary.name) for summary in traceback.extract_stack()
        ]
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                frames += [
                    (frame.f_code.co_filename, frame.f_code.co_name)
                    for frame in task.get_stack()
                ]
        seen.append(
            [name for file, name in frames if file.startswith(str(INTEGRATION))]
        )
        return post(session, *args, **kwargs)

    with patch.object(aiohttp.ClientSession, "post", counting_post):
        await place_call(hass, {"destination": DESTINATION})

    # The action's handler, the dialer's one call API, its rails in the entry's task,
    # the client, its one POST.
    [frames] = seen
    assert sorted(frames) == sorted(
        ["async_place_call", "async_call", "_async_place", "place_call", "_post"]
    )
    assert len(simulator.calls) == 1
