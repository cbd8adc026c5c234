"""spectronics_voip.call_until_answered over real HTTP to the simulator.

Each attempt rings a person's own phone first: a contact's number (sent as source) or
extension, or a number of `destinations` (sent as source), connected on to "connect
to" once it answers; `wait` reports that first phone's answer. The escalation's order,
its stop at the first answer, rounds and delay; which failures end it and which move
on; input refused before the first attempt (a quick-dial contact among it); the
account the contacts decide; a stopped script and an unloaded entry; administrator-only
actions; the rails.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import gc
import json
import logging
import time
from typing import Any

from aiohttp import web
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
import voluptuous as vol
import yaml

from custom_components.spectronics_voip.api import SpectronicsError
from custom_components.spectronics_voip.const import (
    CONF_ADMIN_ONLY,
    CONF_ALLOWED_NUMBERS,
    CONF_CONNECT_TO,
    CONF_COOLDOWN,
    DOMAIN,
    EVENT_CALL_RESULT,
    SERVICE_CALL_UNTIL_ANSWERED,
    SERVICE_PLACE_CALL,
)
from custom_components.spectronics_voip.services import CALL_UNTIL_ANSWERED_SCHEMA
from homeassistant.config_entries import SOURCE_REAUTH, ConfigSubentryData
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
    UnknownUser,
)
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component

from .common import (
    ANSWERS,
    DAD,
    INTEGRATION,
    LAST_CALL,
    MUM,
    REJECTS,
    RESULT_KEYS,
    TIMES_OUT,
    TRANSLATIONS,
    call_result,
    make_entry,
    set_up_entry,
    translated,
    until,
)
from .simulator import (
    ALL_TOKEN,
    EXTENSION,
    FAULTS,
    OTHER_EXTENSION,
    SINGLE_TOKEN,
    Answer,
    Fault,
    Simulator,
)

# The contacts' buttons (MUM and DAD are in .common).
GRAN = "button.gran_call"
PLUMBER = "button.plumber_call"
OFFICE = "button.office_call"
# Mum's number rejects (the simulator rejects a number ending in 486); Dad's and
# Gran's phones answer. Dad is connected to his own "connect to", Mum and Gran to the
# account's (its option, else its extension). Plumber is quick dial.
MUM_NUMBER = "07700900486"
DAD_NUMBER = "07700900222"
DAD_CONNECT_TO = "02079460000"
GRAN_EXTENSION = OTHER_EXTENSION
PLUMBER_NUMBER = "02079460958"
FAMILY: dict[str, dict[str, Any]] = {
    "Mum": {"destination": MUM_NUMBER, "ring_first": "contact_number"},
    "Dad": {
        "destination": DAD_NUMBER,
        "ring_first": "contact_number",
        "connect_to": DAD_CONNECT_TO,
        "cidname": "DAD",
    },
    "Gran": {
        "destination": GRAN_EXTENSION,
        "ring_first": "contact_extension",
        "wait": True,
    },
    "Plumber": {"destination": PLUMBER_NUMBER},
}
# What the account option "connect to" is set to where a test sets it.
OPTION_CONNECT_TO = "07700900999"


class TimedSimulator(Simulator):
    """The simulator, noting when each request arrives; faults for the next requests."""

    def __init__(self) -> None:
        """Model the default account."""
        super().__init__()
        self.arrivals: list[float] = []
        # Each request takes the next of these as the simulator's fault.
        self.next_faults: list[Fault | None] = []

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Note the time, apply the next scripted fault, answer as the simulator."""
        self.arrivals.append(time.monotonic())
        if self.next_faults:
            self.set_fault(self.next_faults.pop(0))
        return await super()._handle(request)


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncGenerator[TimedSimulator]:
    """Serve the timed simulator on a free loopback port."""
    sim = TimedSimulator()
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def mock_config_entry(simulator: TimedSimulator) -> MockConfigEntry:
    """Return an account with the contacts Mum, Dad, Gran and Plumber."""
    return make_entry(simulator.url, contacts=FAMILY)


@pytest.fixture
async def office_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> MockConfigEntry:
    """Set up a second account, on a single-extension token, with the contact Office."""
    entry = make_entry(
        simulator.url,
        extension=OTHER_EXTENSION,
        token=SINGLE_TOKEN,
        contacts={
            "Office": {"destination": "02079460301", "ring_first": "contact_number"}
        },
    )
    return await set_up_entry(hass, entry)


async def _set_options(
    hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any]
) -> None:
    """Replace the entry's options."""
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.async_block_till_done()


async def _call(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any],
    *,
    context: Context | None = None,
    return_response: bool = True,
) -> dict[str, Any] | None:
    """Run one of the integration's actions and wait for it; return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        context=context,
        return_response=return_response,
    )
    return None if response is None else dict(response)


async def _escalate(
    hass: HomeAssistant,
    data: dict[str, Any],
    *,
    context: Context | None = None,
    return_response: bool = True,
) -> dict[str, Any] | None:
    """Run call_until_answered and wait for it; return its response data."""
    return await _call(
        hass,
        SERVICE_CALL_UNTIL_ANSWERED,
        data,
        context=context,
        return_response=return_response,
    )


async def _set_up_script(hass: HomeAssistant, data: dict[str, Any]) -> None:
    """Set up script.escalate, which runs call_until_answered with `data`."""
    action = {"action": f"{DOMAIN}.{SERVICE_CALL_UNTIL_ANSWERED}", "data": data}
    assert await async_setup_component(
        hass, "script", {"script": {"escalate": {"sequence": [action]}}}
    )


async def _stop_the_script_while_it_rings(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Start script.escalate and stop it while its first attempt is at the provider."""
    await hass.services.async_call(
        "script", "turn_on", {ATTR_ENTITY_ID: "script.escalate"}, blocking=True
    )
    await until(lambda: simulator.in_flight)
    await hass.services.async_call(
        "script", "turn_off", {ATTR_ENTITY_ID: "script.escalate"}, blocking=True
    )


def _wire(**fields: str) -> dict[str, str]:
    """Return the form of one attempt of the default account, without `auth`.

    Waiting, placed from the account's extension and connected to it once the phone
    rung first answers, unless `fields` say otherwise.
    """
    defaults = {"extension": EXTENSION, "destination": EXTENSION}
    return defaults | {"reverse": "0", "wait": "1"} | fields


def _rung(simulator: Simulator, token: str = ALL_TOKEN) -> list[dict[str, str]]:
    """Return the calls that rang, without `auth`; assert each carried `token`.

    No token in an assertion: a failing one would show it, and the secret guard
    would error the test.
    """
    assert all(call["auth"] == token for call in simulator.calls)
    return [
        {key: value for key, value in call.items() if key != "auth"}
        for call in simulator.calls
    ]


def _result(entry: MockConfigEntry, rings_first: str, **fields: Any) -> dict[str, Any]:
    """Return an attempt's result: waiting, not suppressed, the account's extension."""
    return {
        "config_entry_id": entry.entry_id,
        "contact": None,
        "ring_first": None,
        "extension": EXTENSION,
        "destination": EXTENSION,
        "source": None,
        "cidname": None,
        "reverse": False,
        "wait": True,
        "rings_first": rings_first,
        "suppressed": False,
    } | fields


def _rejected(
    entry: MockConfigEntry, rings_first: str, **fields: Any
) -> dict[str, Any]:
    """Return the result of an attempt whose phone rung first rejected it."""
    return _result(
        entry,
        rings_first,
        success=False,
        message="Call rejected",
        error="api",
        **fields,
    )


def _answered(
    entry: MockConfigEntry, rings_first: str, **fields: Any
) -> dict[str, Any]:
    """Return the result of an attempt whose phone rung first answered."""
    return _result(
        entry,
        rings_first,
        success=True,
        message="Call answered",
        error=None,
        **fields,
    )


def _mum(entry: MockConfigEntry, **fields: Any) -> dict[str, Any]:
    """Return the result of Mum's attempt: her number rang first and rejected it."""
    return _rejected(
        entry,
        MUM_NUMBER,
        contact="Mum",
        ring_first="contact_number",
        source=MUM_NUMBER,
        **fields,
    )


def _problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the warnings and errors logged, but asyncio's slow-callback notes."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and not (record.name == "asyncio" and record.msg.startswith("Executing"))
    ]


def _assert_validation_error(
    err: HomeAssistantError, key: str, placeholders: dict[str, str] | None = None
) -> None:
    """Assert a translated ServiceValidationError of this integration."""
    assert isinstance(err, ServiceValidationError)
    assert err.translation_domain == DOMAIN
    assert err.translation_key == key
    assert err.translation_placeholders == placeholders
    assert str(err) == translated(key, placeholders)


# ---------------------------------------------------------------------------
# Contacts: each one's own phone rings first
# ---------------------------------------------------------------------------


async def test_contacts_ring_in_order_until_one_answers(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Mum rejects, Dad answers: Gran is never rung; each attempt as its own call."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    context = Context()

    response = await _escalate(hass, {"contacts": [MUM, DAD, GRAN]}, context=context)

    # Each contact's number rings first with the contact's settings, always
    # waiting, one at a time; Mum is connected to the account's extension, Dad to
    # his own "connect to".
    assert _rung(simulator) == [
        _wire(source=MUM_NUMBER),
        _wire(source=DAD_NUMBER, destination=DAD_CONNECT_TO, cidname="DAD"),
    ]
    assert simulator.rung_first == [MUM_NUMBER, DAD_NUMBER]
    assert simulator.max_in_flight == 1
    assert response == {
        "success": True,
        "answered_by": "Dad",
        "attempts": [
            _mum(init_integration),
            _answered(
                init_integration,
                DAD_NUMBER,
                contact="Dad",
                ring_first="contact_number",
                source=DAD_NUMBER,
                destination=DAD_CONNECT_TO,
                cidname="DAD",
            ),
        ],
        "stopped_by": None,
    }
    assert [list(attempt) for attempt in response["attempts"]] == [RESULT_KEYS] * 2
    await hass.async_block_till_done()
    # One result event per attempt, the same dicts as the response, the action's context.
    assert [call_result(event) for event in events] == response["attempts"]
    assert [list(call_result(event)) for event in events] == [RESULT_KEYS] * 2
    assert [event.context.id for event in events] == [context.id] * 2
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "answered"
    assert state.attributes["contact"] == "Dad"
    assert state.context.id == context.id


@pytest.mark.parametrize("extension_answers", ["timeout", "answer"])
async def test_two_contacts_ring_first_while_the_extension_never_answers(
    hass: HomeAssistant, simulator: TimedSimulator, extension_answers: Answer
) -> None:
    """Partner's phone rejects, Me's answers: Me is named; the extension never rings.

    Whether the account's extension is a house phone nobody answers or one that
    does, the escalation is decided by the contacts' own phones.
    """
    simulator.phones[EXTENSION] = extension_answers
    simulator.phones["07700900111"] = "reject"
    simulator.phones["07700900777"] = "answer"
    entry = make_entry(
        simulator.url,
        contacts={
            "Partner": {
                "destination": "07700900111",
                "ring_first": "contact_number",
                "cidname": "HOME",
            },
            "Me": {"destination": "07700900777", "ring_first": "contact_number"},
        },
    )
    await set_up_entry(hass, entry)
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    response = await _escalate(
        hass, {"contacts": ["button.partner_call", "button.me_call"]}
    )

    assert simulator.rung_first == ["07700900111", "07700900777"]
    assert _rung(simulator) == [
        {
            "source": "07700900111",
            "extension": EXTENSION,
            "destination": EXTENSION,
            "cidname": "HOME",
            "reverse": "0",
            "wait": "1",
        },
        {
            "source": "07700900777",
            "extension": EXTENSION,
            "destination": EXTENSION,
            "reverse": "0",
            "wait": "1",
        },
    ]
    assert response == {
        "success": True,
        "answered_by": "Me",
        "attempts": [
            _rejected(
                entry,
                "07700900111",
                contact="Partner",
                ring_first="contact_number",
                source="07700900111",
                cidname="HOME",
            ),
            _answered(
                entry,
                "07700900777",
                contact="Me",
                ring_first="contact_number",
                source="07700900777",
            ),
        ],
        "stopped_by": None,
    }
    await hass.async_block_till_done()
    assert [call_result(event) for event in events] == response["attempts"]


async def test_a_contact_extension_rings_first(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Gran's extension is sent as the extension and rung first; it answers."""
    simulator.phones[EXTENSION] = "timeout"

    response = await _escalate(hass, {"contacts": [MUM, GRAN]})

    assert _rung(simulator) == [
        _wire(source=MUM_NUMBER),
        _wire(extension=GRAN_EXTENSION),
    ]
    assert simulator.rung_first == [MUM_NUMBER, GRAN_EXTENSION]
    assert response == {
        "success": True,
        "answered_by": "Gran",
        "attempts": [
            _mum(init_integration),
            _answered(
                init_integration,
                GRAN_EXTENSION,
                contact="Gran",
                ring_first="contact_extension",
                extension=GRAN_EXTENSION,
            ),
        ],
        "stopped_by": None,
    }


async def test_contacts_connect_to_their_own_else_the_accounts_option(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """With the option "connect to" set, it replaces the account's extension."""
    await _set_options(hass, init_integration, {CONF_CONNECT_TO: OPTION_CONNECT_TO})
    simulator.phones[DAD_NUMBER] = "reject"

    response = await _escalate(hass, {"contacts": [MUM, DAD, GRAN]})

    assert _rung(simulator) == [
        _wire(source=MUM_NUMBER, destination=OPTION_CONNECT_TO),
        _wire(source=DAD_NUMBER, destination=DAD_CONNECT_TO, cidname="DAD"),
        _wire(extension=GRAN_EXTENSION, destination=OPTION_CONNECT_TO),
    ]
    assert response is not None
    assert response["answered_by"] == "Gran"
    assert [a["destination"] for a in response["attempts"]] == [
        OPTION_CONNECT_TO,
        DAD_CONNECT_TO,
        OPTION_CONNECT_TO,
    ]


async def test_cidname_replaces_the_contacts_own(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """The action's caller name is sent with every contact's attempt."""
    simulator.phones[DAD_NUMBER] = "reject"

    response = await _escalate(
        hass, {"contacts": [MUM, DAD, GRAN], "cidname": "ALARM: SMOKE"}
    )

    assert _rung(simulator) == [
        _wire(source=MUM_NUMBER, cidname="ALARM: SMOKE"),
        _wire(source=DAD_NUMBER, destination=DAD_CONNECT_TO, cidname="ALARM: SMOKE"),
        _wire(extension=GRAN_EXTENSION, cidname="ALARM: SMOKE"),
    ]
    assert response is not None
    assert response["answered_by"] == "Gran"
    assert [a["cidname"] for a in response["attempts"]] == ["ALARM: SMOKE"] * 3


@pytest.mark.parametrize(
    "contacts",
    [[PLUMBER], [MUM, DAD, PLUMBER], [PLUMBER, MUM]],
    ids=["alone", "after-two-contacts", "before-a-contact"],
)
async def test_a_quick_dial_contact_is_refused_before_anything_is_sent(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    contacts: list[str],
) -> None:
    """Plumber rings your extension first: refused, naming him; no request at all."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as exc_info:
        await _escalate(hass, {"contacts": contacts})

    _assert_validation_error(
        exc_info.value, "contact_rings_your_extension", {"name": "Plumber"}
    )
    assert "Plumber is a quick-dial contact" in str(exc_info.value)
    await hass.async_block_till_done()
    assert len(simulator.requests) == before
    assert simulator.calls == []
    assert events == []


async def test_each_attempt_says_which_phone_rang_first(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Response data, events and Last call carry ring_first and rings_first."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    contacts = await _escalate(hass, {"contacts": [MUM, GRAN]})
    destinations = await _escalate(hass, {"destinations": [REJECTS, ANSWERS]})

    assert contacts is not None
    assert destinations is not None
    attempts = contacts["attempts"] + destinations["attempts"]
    expected = [
        ("contact_number", MUM_NUMBER),
        ("contact_extension", GRAN_EXTENSION),
        (None, REJECTS),
        (None, ANSWERS),
    ]
    assert [(a["ring_first"], a["rings_first"]) for a in attempts] == expected
    assert simulator.rung_first == [rings_first for _, rings_first in expected]
    await hass.async_block_till_done()
    assert [(e.data["ring_first"], e.data["rings_first"]) for e in events] == expected
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert (state.attributes["ring_first"], state.attributes["rings_first"]) == (
        None,
        ANSWERS,
    )


# ---------------------------------------------------------------------------
# Destinations: each number rings first, connected on to "connect to"
# ---------------------------------------------------------------------------


async def test_destinations_ring_first_in_order_with_the_shared_fields(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Each number rings first with the shared fields; answered_by is that number."""
    await _set_options(hass, init_integration, {CONF_COOLDOWN: 0})
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    shared: dict[str, Any] = {"extension": OTHER_EXTENSION, "cidname": "ALARM"}

    response = await _escalate(
        hass,
        {
            "destinations": ["+44 (0)20 1234 5486", "+44 20-7946 0000", ANSWERS],
            "connect_to": "0770 090 0123",
        }
        | shared,
    )

    shared_wire = {"extension": OTHER_EXTENSION, "destination": "07700900123"}
    shared_wire |= {"cidname": "ALARM"}
    assert _rung(simulator) == [
        _wire(source="+4402012345486", **shared_wire),
        _wire(source="+442079460000", **shared_wire),
    ]
    assert simulator.rung_first == ["+4402012345486", "+442079460000"]
    assert simulator.max_in_flight == 1
    assert response is not None
    assert response["success"] is True
    assert response["answered_by"] == "+442079460000"
    assert response["attempts"] == [
        _rejected(
            init_integration, "+4402012345486", source="+4402012345486", **shared_wire
        ),
        _answered(
            init_integration, "+442079460000", source="+442079460000", **shared_wire
        ),
    ]
    await hass.async_block_till_done()
    assert [call_result(event) for event in events] == response["attempts"]

    # Exactly what place_call reports for the same calls.
    place = {"destination": "0770 090 0123", "wait": True} | shared
    answered = await _call(
        hass, SERVICE_PLACE_CALL, place | {"source": "+44 20-7946 0000"}
    )
    assert answered == response["attempts"][1]
    with pytest.raises(HomeAssistantError):
        await _call(hass, SERVICE_PLACE_CALL, place | {"source": "+44 (0)20 1234 5486"})
    await hass.async_block_till_done()
    assert call_result(events[-1]) == response["attempts"][0]


@pytest.mark.parametrize(
    ("data", "options", "extension", "destination"),
    [
        pytest.param(
            {"connect_to": "0207 946 0111", "extension": OTHER_EXTENSION},
            {CONF_CONNECT_TO: OPTION_CONNECT_TO},
            OTHER_EXTENSION,
            "02079460111",
            id="the-actions-connect-to",
        ),
        pytest.param(
            {"extension": OTHER_EXTENSION},
            {CONF_CONNECT_TO: OPTION_CONNECT_TO},
            OTHER_EXTENSION,
            OPTION_CONNECT_TO,
            id="else-the-accounts-option",
        ),
        pytest.param(
            {"extension": OTHER_EXTENSION},
            {CONF_CONNECT_TO: ""},
            OTHER_EXTENSION,
            OTHER_EXTENSION,
            id="else-the-extension-field",
        ),
        pytest.param({}, {}, EXTENSION, EXTENSION, id="else-the-accounts-extension"),
    ],
)
async def test_destinations_connect_to(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    *,
    data: dict[str, Any],
    options: dict[str, Any],
    extension: str,
    destination: str,
) -> None:
    """A number that answers is connected to connect_to, else the fallbacks in turn."""
    await _set_options(hass, init_integration, options)

    response = await _escalate(hass, {"destinations": [REJECTS, ANSWERS]} | data)

    fields = {"extension": extension, "destination": destination}
    assert _rung(simulator) == [
        _wire(source=REJECTS, **fields),
        _wire(source=ANSWERS, **fields),
    ]
    assert response == {
        "success": True,
        "answered_by": ANSWERS,
        "attempts": [
            _rejected(init_integration, REJECTS, source=REJECTS, **fields),
            _answered(init_integration, ANSWERS, source=ANSWERS, **fields),
        ],
        "stopped_by": None,
    }


async def test_nobody_answering_is_a_result_not_an_error(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Three rounds of two numbers that never answer: six attempts, ABABAB."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    context = Context()

    response = await _escalate(
        hass, {"destinations": [REJECTS, TIMES_OUT], "rounds": 3}, context=context
    )

    assert simulator.rung_first == [REJECTS, TIMES_OUT] * 3
    assert _rung(simulator) == [_wire(source=REJECTS), _wire(source=TIMES_OUT)] * 3
    assert simulator.max_in_flight == 1
    assert response is not None
    assert response["success"] is False
    assert response["answered_by"] is None
    assert [(a["source"], a["message"]) for a in response["attempts"]] == [
        (REJECTS, "Call rejected"),
        (TIMES_OUT, "Call timed out"),
    ] * 3
    assert [a["error"] for a in response["attempts"]] == ["api"] * 6
    await hass.async_block_till_done()
    assert [call_result(event) for event in events] == response["attempts"]
    assert {event.context.id for event in events} == {context.id}
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "failed"


async def test_rounds_stop_at_the_first_answer(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """An answer in the first round ends the escalation: no second round."""
    response = await _escalate(
        hass, {"destinations": [REJECTS, ANSWERS, TIMES_OUT], "rounds": 3}
    )

    assert simulator.rung_first == [REJECTS, ANSWERS]
    assert response is not None
    assert response["answered_by"] == ANSWERS


async def test_delay_between_attempts_not_before_the_first(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """The delay is the pause from one attempt's result to the next attempt."""
    results: list[float] = []

    @callback
    def _note(event: Event) -> None:
        results.append(time.monotonic())

    hass.bus.async_listen(EVENT_CALL_RESULT, _note)
    sent_before = len(simulator.arrivals)
    start = time.monotonic()

    response = await _escalate(
        hass, {"destinations": [REJECTS, TIMES_OUT, ANSWERS], "delay": 0.3}
    )

    elapsed = time.monotonic() - start
    arrivals = simulator.arrivals[sent_before:]
    assert len(arrivals) == len(results) == 3
    assert response is not None
    assert response["answered_by"] == ANSWERS
    # No delay before the first attempt.
    assert arrivals[0] - start < 0.3
    # Each next attempt is sent the delay (once, not twice) after the previous result.
    gaps = [arrivals[i + 1] - results[i] for i in range(2)]
    assert all(0.3 <= gap < 0.6 for gap in gaps), gaps
    assert elapsed < 1.5


# ---------------------------------------------------------------------------
# Failures: authentication ends the escalation, any other moves on
# ---------------------------------------------------------------------------


async def test_auth_failure_aborts(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """A refused token raises, sends nothing more, and asks for a new token."""
    simulator.tokens.clear()
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(HomeAssistantError) as exc_info:
        await _escalate(hass, {"destinations": [ANSWERS, REJECTS], "rounds": 2})

    err = exc_info.value
    assert not isinstance(err, ServiceValidationError)
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "call_failed_auth"
    assert err.translation_placeholders == {"message": "Invalid authentication"}
    assert str(err) == translated("call_failed_auth", err.translation_placeholders)
    leaked = ALL_TOKEN in f"{err!s} {err!r}"
    assert not leaked
    await asyncio.sleep(0.1)
    await hass.async_block_till_done()
    assert len(simulator.requests) == before + 1
    assert simulator.requests[-1].fields["source"] == ANSWERS
    assert simulator.calls == []
    assert [(e.data["source"], e.data["error"]) for e in events] == [(ANSWERS, "auth")]
    flows = list(init_integration.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert len(flows) == 1
    assert flows[0]["context"]["entry_id"] == init_integration.entry_id


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        pytest.param(
            FAULTS["drop"], "connection", None, id="connection-dropped-after-sending"
        ),
        pytest.param(Fault(body=b"ERR:Line busy"), "api", "Line busy", id="err"),
        pytest.param(FAULTS["html"], "invalid_response", None, id="html"),
        pytest.param(FAULTS["http500"], "invalid_response", None, id="http500"),
    ],
)
async def test_other_failures_move_on(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    *,
    fault: Fault,
    error: str,
    message: str | None,
) -> None:
    """A failure other than authentication fails that attempt only."""
    simulator.next_faults = [fault, None]
    before = len(simulator.requests)

    response = await _escalate(hass, {"destinations": ["01632960001", ANSWERS]})

    assert [r.fields["source"] for r in simulator.requests[before:]] == [
        "01632960001",
        ANSWERS,
    ]
    assert _rung(simulator) == [_wire(source=ANSWERS)]
    assert response is not None
    assert response["success"] is True
    assert response["answered_by"] == ANSWERS
    first, second = response["attempts"]
    assert (first["source"], first["success"], first["error"]) == (
        "01632960001",
        False,
        error,
    )
    if message is not None:
        assert first["message"] == message
    assert second == _answered(init_integration, ANSWERS, source=ANSWERS)
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []


async def test_no_connection_moves_on_after_its_retries(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
) -> None:
    """A provider that cannot be reached fails each attempt after its two retries."""
    await simulator.stop()
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    response = await _escalate(hass, {"destinations": [ANSWERS, REJECTS]})

    assert response is not None
    assert response["success"] is False
    assert response["answered_by"] is None
    assert [(a["source"], a["error"]) for a in response["attempts"]] == [
        (ANSWERS, "connection"),
        (REJECTS, "connection"),
    ]
    await hass.async_block_till_done()
    assert len(events) == 2


# ---------------------------------------------------------------------------
# Input refused before the first attempt
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        pytest.param({}, "attempts_none", None, id="neither"),
        pytest.param({"contacts": []}, "attempts_none", None, id="no-contacts"),
        pytest.param({"destinations": []}, "attempts_none", None, id="no-destinations"),
        pytest.param(
            {"contacts": [], "destinations": []}, "attempts_none", None, id="both-empty"
        ),
        pytest.param(
            {"contacts": [MUM], "destinations": [ANSWERS]},
            "attempts_both",
            None,
            id="both",
        ),
        pytest.param(
            {"contacts": ["button.nope"]},
            "unknown_contact",
            {"entity_id": "button.nope"},
            id="unknown-entity",
        ),
        pytest.param(
            {"contacts": [MUM, DAD, "button.nope"]},
            "unknown_contact",
            {"entity_id": "button.nope"},
            id="unknown-entity-last",
        ),
        pytest.param(
            {"contacts": ["notify.mum"]},
            "unknown_contact",
            {"entity_id": "notify.mum"},
            id="contacts-notify-entity",
        ),
        pytest.param(
            {"contacts": [LAST_CALL]},
            "unknown_contact",
            {"entity_id": LAST_CALL},
            id="account-event-entity",
        ),
        pytest.param(
            {"contacts": [MUM], "extension": OTHER_EXTENSION},
            "contact_fields",
            {"fields": "extension"},
            id="contacts-extension",
        ),
        pytest.param(
            {"contacts": [MUM], "connect_to": ANSWERS},
            "contact_fields",
            {"fields": "connect_to"},
            id="contacts-connect-to",
        ),
        pytest.param(
            {"contacts": [MUM], "extension": "1", "connect_to": "me"},
            "contact_fields",
            {"fields": "connect_to, extension"},
            id="contacts-both-fields",
        ),
        pytest.param(
            {"destinations": [REJECTS, ANSWERS, "call me"]},
            "invalid_destinations",
            None,
            id="bad-destination-last",
        ),
        pytest.param(
            {"destinations": [REJECTS], "connect_to": "me"},
            "invalid_connect_to",
            None,
            id="bad-connect-to",
        ),
        pytest.param(
            {"destinations": [REJECTS], "extension": "123"},
            "invalid_extension",
            None,
            id="bad-extension",
        ),
        pytest.param(
            {"destinations": [REJECTS], "cidname": "x" * 41},
            "invalid_cidname",
            None,
            id="bad-cidname",
        ),
        pytest.param(
            {"contacts": [MUM], "cidname": "Front\ndoor"},
            "invalid_cidname",
            None,
            id="bad-cidname-contacts",
        ),
        pytest.param(
            {"destinations": [ANSWERS], "config_entry_id": "nope"},
            "entry_not_found",
            {"entry_id": "nope"},
            id="unknown-entry",
        ),
    ],
)
async def test_invalid_input(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    *,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str] | None,
) -> None:
    """Invalid input raises a translated ServiceValidationError; nothing is sent."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as exc_info:
        await _escalate(hass, data)

    _assert_validation_error(exc_info.value, key, placeholders)
    if key.startswith("invalid_"):
        assert isinstance(exc_info.value.__cause__, SpectronicsError)
    await hass.async_block_till_done()
    assert simulator.calls == []
    assert len(simulator.requests) == before
    assert events == []


@pytest.mark.parametrize(
    "destinations",
    [[REJECTS, ""], ["", ANSWERS]],
    ids=["last", "first"],
)
async def test_an_empty_destination_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    destinations: list[str],
) -> None:
    """An empty number (a template that rendered nothing) refuses the escalation.

    Sent as an empty source, it would ring the account's extension first instead of
    a person, and its answer would count as the escalation's.
    """
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises((ServiceValidationError, vol.Invalid)):
        await _escalate(hass, {"destinations": destinations})

    await hass.async_block_till_done()
    assert simulator.rung_first == []
    assert len(simulator.requests) == before
    assert events == []


@pytest.mark.parametrize(
    ("platform", "in_subentry"),
    [("other_integration", False), ("other_integration", True), (DOMAIN, False)],
    ids=["other-integration", "other-integrations-subentry", "not-a-contacts"],
)
@pytest.mark.parametrize("alone", [True, False], ids=["alone", "after-a-contact"])
async def test_a_button_that_is_not_a_contact(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    *,
    platform: str,
    in_subentry: bool,
    alone: bool,
) -> None:
    """Another integration's button (even of a subentry), or a non-contact, is refused."""
    owner = init_integration
    subentry_id = None
    if platform != DOMAIN:
        owner = MockConfigEntry(
            domain=platform,
            title="Other",
            subentries_data=[
                ConfigSubentryData(
                    data={}, subentry_type="topic", title="Topic", unique_id=None
                )
            ],
        )
        owner.add_to_hass(hass)
        if in_subentry:
            [subentry_id] = owner.subentries
    button = er.async_get(hass).async_get_or_create(
        "button",
        platform,
        "not-a-contact",
        config_entry=owner,
        config_subentry_id=subentry_id,
        suggested_object_id="not_a_contact",
    )
    hass.states.async_set(button.entity_id, "unknown")
    contacts = [button.entity_id] if alone else [MUM, button.entity_id]
    before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as exc_info:
        await _escalate(hass, {"contacts": contacts})

    _assert_validation_error(
        exc_info.value, "unknown_contact", {"entity_id": button.entity_id}
    )
    assert len(simulator.requests) == before


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"destinations": [ANSWERS], "rounds": 0}, id="rounds-0"),
        pytest.param({"destinations": [ANSWERS], "rounds": 11}, id="rounds-11"),
        pytest.param({"destinations": [ANSWERS], "rounds": "twice"}, id="rounds-text"),
        pytest.param({"destinations": [ANSWERS], "delay": -1}, id="delay-negative"),
        pytest.param({"destinations": [ANSWERS], "delay": 601}, id="delay-601"),
        pytest.param({"destinations": [ANSWERS], "wait": False}, id="wait-not-a-field"),
        pytest.param(
            {"destinations": [ANSWERS], "source": "07700900123"},
            id="source-not-a-field",
        ),
        pytest.param(
            {"destinations": [ANSWERS], "reverse": True}, id="reverse-not-a-field"
        ),
        pytest.param(
            {"destinations": [ANSWERS], "reverse": False}, id="reverse-off-not-a-field"
        ),
        pytest.param({"contacts": [MUM], "source": "2005"}, id="contacts-source"),
        pytest.param({"contacts": [MUM], "reverse": True}, id="contacts-reverse"),
        pytest.param({"destinations": [{"number": "2001"}]}, id="destination-dict"),
        pytest.param({"contacts": ["not an entity id"]}, id="contact-not-entity-id"),
    ],
)
async def test_schema_errors(
    hass: HomeAssistant, simulator: TimedSimulator, data: dict[str, Any]
) -> None:
    """Values outside the schema, and fields it lacks, never reach the provider."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(vol.Invalid) as exc_info:
        await _escalate(hass, data)

    assert isinstance(exc_info.value, vol.MultipleInvalid)
    assert len(simulator.requests) == before
    assert events == []


@pytest.mark.parametrize(
    ("rounds", "delay"), [(1, 0), (10, 600), ("3", "0.5")], ids=["min", "max", "text"]
)
def test_schema_bounds_and_defaults(rounds: Any, delay: Any) -> None:
    """The bounds themselves are accepted; rounds 1 and delay 0 are the defaults."""
    data = CALL_UNTIL_ANSWERED_SCHEMA(
        {"destinations": "2001", "rounds": rounds, "delay": delay}
    )
    assert data["destinations"] == ["2001"]
    assert data["rounds"] == int(rounds)
    assert data["delay"] == float(delay)
    defaults = CALL_UNTIL_ANSWERED_SCHEMA({"destinations": ["2001"]})
    assert (defaults["rounds"], defaults["delay"]) == (1, 0)
    assert "connect_to" not in defaults


# ---------------------------------------------------------------------------
# The rails on an escalation
# ---------------------------------------------------------------------------

# Mum's number, the family's "connect to" numbers, the test numbers: not Dad's number.
# The account's own extensions need no entry.
ALLOWED = [MUM_NUMBER, "0207946*", "01632960*"]


@pytest.mark.parametrize(
    ("data", "options", "number"),
    [
        pytest.param(
            {"destinations": [REJECTS, ANSWERS, "07700900123"]},
            {},
            "07700900123",
            id="last-destination",
        ),
        pytest.param(
            {"destinations": [REJECTS, ANSWERS], "connect_to": "0770 090 0999"},
            {},
            "07700900999",
            id="connect-to",
        ),
        pytest.param(
            {"destinations": [REJECTS]},
            {CONF_CONNECT_TO: OPTION_CONNECT_TO},
            OPTION_CONNECT_TO,
            id="connected-to-the-accounts-option",
        ),
        pytest.param(
            {"contacts": [MUM]},
            {CONF_CONNECT_TO: OPTION_CONNECT_TO},
            OPTION_CONNECT_TO,
            id="contact-connected-to-the-accounts-option",
        ),
        pytest.param({"contacts": [MUM, DAD]}, {}, DAD_NUMBER, id="last-contact"),
    ],
)
async def test_number_not_allowed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    *,
    data: dict[str, Any],
    options: dict[str, Any],
    number: str,
) -> None:
    """Any number of any attempt outside the allowed numbers refuses it all up front."""
    await _set_options(
        hass, init_integration, {CONF_ALLOWED_NUMBERS: ALLOWED} | options
    )
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    with pytest.raises(ServiceValidationError) as exc_info:
        await _escalate(hass, data)

    placeholders = {"number": number}
    _assert_validation_error(exc_info.value, "number_not_allowed", placeholders)
    assert number in str(exc_info.value)
    await hass.async_block_till_done()
    assert len(simulator.requests) == before
    assert events == []


async def test_the_accounts_extensions_need_no_allowed_number(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Connected to the account's extension or the extension field: never refused."""
    await _set_options(hass, init_integration, {CONF_ALLOWED_NUMBERS: ["01632960*"]})

    for data in (
        {"destinations": [ANSWERS]},
        {"destinations": [ANSWERS], "extension": OTHER_EXTENSION},
    ):
        response = await _escalate(hass, data)
        assert response is not None
        assert response["answered_by"] == ANSWERS

    assert [(call["source"], call["destination"]) for call in simulator.calls] == [
        (ANSWERS, EXTENSION),
        (ANSWERS, OTHER_EXTENSION),
    ]


async def test_allowed_numbers_are_rung(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Attempts whose every number matches the allowed ones (exact, prefix) are rung."""
    await _set_options(
        hass, init_integration, {CONF_ALLOWED_NUMBERS: [*ALLOWED, "077009002*"]}
    )

    contacts = await _escalate(hass, {"contacts": [MUM, DAD]})
    destinations = await _escalate(
        hass, {"destinations": [REJECTS, ANSWERS], "connect_to": DAD_CONNECT_TO}
    )

    assert contacts is not None
    assert contacts["answered_by"] == "Dad"
    assert destinations is not None
    assert destinations["answered_by"] == ANSWERS
    assert [(c["source"], c["destination"]) for c in simulator.calls] == [
        (MUM_NUMBER, EXTENSION),
        (DAD_NUMBER, DAD_CONNECT_TO),
        (REJECTS, DAD_CONNECT_TO),
        (ANSWERS, DAD_CONNECT_TO),
    ]


async def test_a_number_refused_between_two_attempts_ends_the_escalation(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Allowed numbers changed during the delay refuse the next attempt, unsent."""
    await _set_options(hass, init_integration, {CONF_ALLOWED_NUMBERS: ALLOWED})
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    call = hass.async_create_task(
        _escalate(hass, {"destinations": [REJECTS, ANSWERS], "delay": 0.3})
    )
    await until(lambda: events)

    await _set_options(
        hass, init_integration, {CONF_ALLOWED_NUMBERS: [REJECTS, EXTENSION]}
    )
    with pytest.raises(ServiceValidationError) as exc_info:
        await call

    placeholders = {"number": ANSWERS}
    _assert_validation_error(exc_info.value, "number_not_allowed", placeholders)
    await hass.async_block_till_done()
    assert simulator.rung_first == [REJECTS]
    assert [(e.data["source"], e.data["error"]) for e in events] == [(REJECTS, "api")]


async def test_a_press_within_the_cooldown_is_not_an_answer(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Only an attempt that rang with wait on and was answered may be answered_by."""
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: DAD}, blocking=True
    )
    dad = {"source": DAD_NUMBER, "destination": DAD_CONNECT_TO, "cidname": "DAD"}
    assert _rung(simulator) == [_wire(wait="0", **dad)]

    response = await _escalate(hass, {"contacts": [DAD, GRAN]})

    assert response is not None
    # Dad's phone rings again, this time waiting for the answer, and he answers.
    assert _rung(simulator)[1:] == [_wire(**dad)]
    assert response["answered_by"] == "Dad"
    [attempt] = response["attempts"]
    assert attempt["suppressed"] is False
    assert attempt["message"] == "Call answered"


async def test_an_answer_within_the_cooldown_is_an_answer(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """A contact who answered the same call seconds ago is not rung again."""
    first = await _escalate(hass, {"contacts": [DAD]})
    second = await _escalate(hass, {"contacts": [DAD, GRAN]})

    assert first is not None
    assert first["answered_by"] == "Dad"
    assert second is not None
    assert simulator.rung_first == [DAD_NUMBER]
    assert second["answered_by"] == "Dad"
    [attempt] = second["attempts"]
    assert attempt["suppressed"] is True
    assert attempt["rings_first"] == DAD_NUMBER


async def test_a_failed_attempt_starts_no_cooldown(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """A number that rejected rings again in the next escalation, and then answers."""
    simulator.phones[ANSWERS] = "reject"
    first = await _escalate(hass, {"destinations": [ANSWERS]})
    simulator.phones[ANSWERS] = "answer"
    second = await _escalate(hass, {"destinations": [ANSWERS]})

    assert first is not None
    assert first["answered_by"] is None
    assert second is not None
    assert second["answered_by"] == ANSWERS
    assert second["attempts"][0]["suppressed"] is False
    assert simulator.rung_first == [ANSWERS, ANSWERS]


# ---------------------------------------------------------------------------
# Which account
# ---------------------------------------------------------------------------


async def test_entry_optional_with_one_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """With one loaded entry, naming it is optional; naming it works too."""
    first = await _escalate(hass, {"destinations": ["01632960001"]})
    second = await _escalate(
        hass,
        {"destinations": ["01632960002"], "config_entry_id": init_integration.entry_id},
    )

    assert first is not None
    assert second is not None
    assert first["attempts"][0]["config_entry_id"] == init_integration.entry_id
    assert second["attempts"][0]["config_entry_id"] == init_integration.entry_id
    assert simulator.rung_first == ["01632960001", "01632960002"]


async def test_contacts_decide_the_account(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    office_entry: MockConfigEntry,
    simulator: TimedSimulator,
) -> None:
    """With two loaded entries, each escalation goes out from its contacts' account."""
    office = await _escalate(hass, {"contacts": [OFFICE]})
    family = await _escalate(hass, {"contacts": [MUM, DAD]})

    assert office is not None
    assert family is not None
    assert office["answered_by"] == "Office"
    # Office's number rings first, connected to its account's own extension.
    assert office["attempts"] == [
        _answered(
            office_entry,
            "02079460301",
            contact="Office",
            ring_first="contact_number",
            source="02079460301",
            extension=OTHER_EXTENSION,
            destination=OTHER_EXTENSION,
        )
    ]
    assert family["answered_by"] == "Dad"
    assert {a["config_entry_id"] for a in family["attempts"]} == {
        init_integration.entry_id
    }
    assert [
        (c["auth"] == SINGLE_TOKEN, c["auth"] == ALL_TOKEN, c["source"])
        for c in simulator.calls
    ] == [
        (True, False, "02079460301"),
        (False, True, MUM_NUMBER),
        (False, True, DAD_NUMBER),
    ]
    await hass.async_block_till_done()
    office_last = hass.states.get("event.extension_7654321_last_call")
    assert office_last is not None
    assert office_last.attributes["contact"] == "Office"
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["contact"] == "Dad"


@pytest.mark.usefixtures("office_entry")
async def test_destinations_with_two_loaded_need_the_entry(
    hass: HomeAssistant, simulator: TimedSimulator
) -> None:
    """Numbers alone do not tell the account: entry_required."""
    with pytest.raises(ServiceValidationError) as exc_info:
        await _escalate(hass, {"destinations": [ANSWERS]})

    _assert_validation_error(exc_info.value, "entry_required", {"count": "2"})
    assert simulator.calls == []


async def test_contacts_of_two_accounts(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    office_entry: MockConfigEntry,
    simulator: TimedSimulator,
) -> None:
    """Contacts of two accounts need the entry; then the other's contact is refused."""
    with pytest.raises(ServiceValidationError) as exc_info:
        await _escalate(hass, {"contacts": [MUM, OFFICE]})
    _assert_validation_error(exc_info.value, "entry_required", {"count": "2"})

    with pytest.raises(ServiceValidationError) as exc_info:
        await _escalate(
            hass,
            {"contacts": [MUM, OFFICE], "config_entry_id": init_integration.entry_id},
        )
    _assert_validation_error(
        exc_info.value,
        "contact_of_another_account",
        {"entity_id": OFFICE, "title": init_integration.title},
    )

    with pytest.raises(ServiceValidationError) as exc_info:
        await _escalate(
            hass, {"contacts": [OFFICE], "config_entry_id": init_integration.entry_id}
        )
    _assert_validation_error(
        exc_info.value,
        "contact_of_another_account",
        {"entity_id": OFFICE, "title": init_integration.title},
    )
    assert simulator.calls == []


async def test_contact_of_an_unloaded_account(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    office_entry: MockConfigEntry,
    simulator: TimedSimulator,
) -> None:
    """A contact of an account that is not loaded names that account as not loaded."""
    assert await hass.config_entries.async_unload(office_entry.entry_id)
    await hass.async_block_till_done()

    with pytest.raises(ServiceValidationError) as exc_info:
        await _escalate(hass, {"contacts": [OFFICE]})

    _assert_validation_error(
        exc_info.value, "entry_not_loaded", {"title": office_entry.title}
    )
    assert simulator.calls == []


# ---------------------------------------------------------------------------
# A stopped script, a caller that stops waiting, an unloaded entry
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("delay", [0, 0.3])
async def test_stopping_the_script_stops_the_escalation(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    caplog: pytest.LogCaptureFixture,
    delay: float,
) -> None:
    """The attempt in flight completes and reports; no attempt starts after the stop."""
    simulator.ring_time = 0.5
    await _set_up_script(hass, {"destinations": [REJECTS, ANSWERS], "delay": delay})
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    await _stop_the_script_while_it_rings(hass, simulator)
    state = hass.states.get("script.escalate")
    assert state is not None
    assert state.state == STATE_OFF
    assert events == []  # attempt 1 is still ringing

    # Attempt 1 completes and reports, as any call whose caller stopped waiting.
    await until(lambda: events)
    assert [(e.data["source"], e.data["message"]) for e in events] == [
        (REJECTS, "Call rejected")
    ]
    # Well past the delay: attempt 2 would have been sent by now.
    await asyncio.sleep(delay + 0.3)
    await hass.async_block_till_done()
    assert simulator.rung_first == [REJECTS]
    assert simulator.in_flight == 0
    assert len(events) == 1
    assert _problems(caplog) == []


async def test_stopping_the_script_during_a_refused_attempt(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An attempt refused after the stop still asks for a token; nothing is logged."""
    simulator.next_faults = [Fault(delay=0.4, body=b"ERR:Invalid authentication")]
    await _set_up_script(hass, {"destinations": [ANSWERS, REJECTS]})
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    await _stop_the_script_while_it_rings(hass, simulator)
    await until(lambda: events)
    await asyncio.sleep(0.1)
    await hass.async_block_till_done()
    gc.collect()  # an exception nobody retrieved is logged when its task is freed
    await asyncio.sleep(0)

    assert [(e.data["source"], e.data["error"]) for e in events] == [(ANSWERS, "auth")]
    assert len(simulator.requests) == before + 1
    assert list(init_integration.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert _problems(caplog) == []


async def test_unload_after_the_script_stopped(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The script stops, then the account unloads while the attempt still rings.

    The unload cancels the attempt and the escalation, in either order (the entry's
    tasks are a set). Either way the attempt reports cancelled, nothing more is sent
    and nothing is logged.
    """
    simulator.ring_time = 0.5
    await _set_up_script(hass, {"destinations": [REJECTS, ANSWERS]})
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    await _stop_the_script_while_it_rings(hass, simulator)

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await asyncio.sleep(0.6)
    await hass.async_block_till_done()
    gc.collect()  # an exception nobody retrieved is logged when its task is freed
    await asyncio.sleep(0)

    assert [(e.data["source"], e.data["error"]) for e in events] == [
        (REJECTS, "cancelled")
    ]
    assert simulator.rung_first == [REJECTS]
    assert _problems(caplog) == []


async def test_a_caller_that_stops_waiting_during_the_delay(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """A caller cancelled during the pause ends the escalation then, not after it."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    call = hass.async_create_task(
        _escalate(hass, {"destinations": [REJECTS, ANSWERS], "delay": 600})
    )
    await until(lambda: events)

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    # Nothing of the escalation is left running for the rest of the 600 s.
    async with asyncio.timeout(2):
        await hass.async_block_till_done(wait_background_tasks=True)

    assert simulator.rung_first == [REJECTS]
    assert len(events) == 1


async def test_unload_while_an_attempt_rings(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Unloading cancels the escalation: a cancelled attempt, no further attempt."""
    simulator.ring_time = 0.5
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    call = hass.async_create_task(_escalate(hass, {"destinations": [REJECTS, ANSWERS]}))
    await until(lambda: simulator.in_flight)

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(HomeAssistantError) as exc_info:
        await call

    err = exc_info.value
    assert not isinstance(err, ServiceValidationError)
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "call_failed_cancelled"
    assert err.translation_placeholders is not None
    assert str(err) == translated("call_failed_cancelled", err.translation_placeholders)
    await asyncio.sleep(0.6)
    await hass.async_block_till_done()
    assert [(e.data["source"], e.data["error"]) for e in events] == [
        (REJECTS, "cancelled")
    ]
    assert simulator.rung_first == [REJECTS]


async def test_unload_during_the_delay(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Unloading between two attempts cancels the escalation; no further attempt."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    call = hass.async_create_task(
        _escalate(hass, {"destinations": [REJECTS, ANSWERS], "delay": 0.4})
    )
    await until(lambda: events)

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(HomeAssistantError) as exc_info:
        await call

    assert exc_info.value.translation_key == "call_failed_cancelled"
    await asyncio.sleep(0.5)
    await hass.async_block_till_done()
    # Nothing was in flight, so nothing more to report: attempt 1's result only.
    assert [(e.data["source"], e.data["error"]) for e in events] == [(REJECTS, "api")]
    assert simulator.rung_first == [REJECTS]


# ---------------------------------------------------------------------------
# Response data
# ---------------------------------------------------------------------------


async def test_response_only_when_asked(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """Without return_response the escalation still runs and returns nothing."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    response = await _escalate(
        hass, {"destinations": [REJECTS, ANSWERS]}, return_response=False
    )

    assert response is None
    assert simulator.rung_first == [REJECTS, ANSWERS]
    await hass.async_block_till_done()
    assert [e.data["success"] for e in events] == [False, True]


# ---------------------------------------------------------------------------
# Administrator-only actions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "data"),
    [
        (SERVICE_CALL_UNTIL_ANSWERED, {"contacts": [DAD]}),
        (SERVICE_CALL_UNTIL_ANSWERED, {"destinations": [ANSWERS]}),
        (SERVICE_PLACE_CALL, {"destination": "2001"}),
    ],
    ids=["escalate-contacts", "escalate-destinations", "place-call"],
)
@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "household"])
async def test_non_admin_user_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    *,
    hass_read_only_user: MockUser,
    household_user: MockUser,
    read_only: bool,
    service: str,
    data: dict[str, Any],
) -> None:
    """A non-administrator may not run the actions while the account is admin-only."""
    user = hass_read_only_user if read_only else household_user
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    with pytest.raises(Unauthorized) as exc_info:
        await _call(hass, service, data, context=Context(user_id=user.id))

    assert not isinstance(exc_info.value, UnknownUser)
    assert exc_info.value.context is not None
    assert exc_info.value.context.user_id == user.id
    await hass.async_block_till_done()
    assert simulator.calls == []
    assert events == []


async def test_unknown_user_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: TimedSimulator
) -> None:
    """A context naming no known user is refused too."""
    with pytest.raises(UnknownUser):
        await _escalate(
            hass, {"destinations": [ANSWERS]}, context=Context(user_id="nobody")
        )
    assert simulator.calls == []


async def test_non_admin_websocket_call_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """A read-only user's call from the frontend gets the unauthorized error."""
    client = await hass_ws_client(hass, hass_read_only_access_token)

    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": SERVICE_CALL_UNTIL_ANSWERED,
            "service_data": {"destinations": [ANSWERS]},
            "return_response": True,
        }
    )
    reply = await client.receive_json()

    assert reply["success"] is False
    # Home Assistant's call_service reports any HomeAssistantError by this code.
    assert reply["error"] == {"code": "home_assistant_error", "message": "Unauthorized"}
    assert simulator.calls == []


@pytest.mark.parametrize("who", ["admin", "automation"])
async def test_admin_and_automation_may_run_the_actions(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    hass_admin_user: MockUser,
    who: str,
) -> None:
    """An administrator, and an automation (no user), run both actions."""
    context = Context(user_id=hass_admin_user.id if who == "admin" else None)
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    response = await _escalate(
        hass, {"destinations": [REJECTS, ANSWERS]}, context=context
    )
    placed = await _call(
        hass, SERVICE_PLACE_CALL, {"destination": "2004"}, context=context
    )

    assert response is not None
    assert response["answered_by"] == ANSWERS
    assert placed is not None
    assert placed["success"] is True
    # place_call's default order rings the account's extension first.
    assert simulator.rung_first == [REJECTS, ANSWERS, EXTENSION]
    await hass.async_block_till_done()
    assert {e.context.id for e in events} == {context.id}


async def test_admin_only_off_opens_the_actions(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    hass_read_only_user: MockUser,
) -> None:
    """With admin_only off, a read-only user runs both actions."""
    await _set_options(hass, init_integration, {CONF_ADMIN_ONLY: False})
    context = Context(user_id=hass_read_only_user.id)

    response = await _escalate(hass, {"contacts": [MUM, DAD]}, context=context)
    await _call(
        hass,
        SERVICE_PLACE_CALL,
        {"destination": "2004"},
        context=context,
        return_response=False,
    )

    assert response is not None
    assert response["answered_by"] == "Dad"
    assert simulator.rung_first == [MUM_NUMBER, DAD_NUMBER, EXTENSION]


async def test_non_admin_may_press_and_notify_a_contact(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    household_user: MockUser,
) -> None:
    """Pressing a contact's button and notifying a contact stay open to every user."""
    context = Context(user_id=household_user.id)
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    for button in (GRAN, PLUMBER):
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: button}, blocking=True, context=context
        )
    await hass.services.async_call(
        "notify",
        "send_message",
        {ATTR_ENTITY_ID: "notify.dad", "message": "Smoke in the kitchen"},
        blocking=True,
        context=context,
    )

    # Gran's extension rings first; Plumber is quick dial: your extension first.
    assert _rung(simulator) == [
        _wire(extension=GRAN_EXTENSION),
        _wire(destination=PLUMBER_NUMBER, wait="0"),
        _wire(
            source=DAD_NUMBER,
            destination=DAD_CONNECT_TO,
            cidname="Smoke in the kitchen",
            wait="0",
        ),
    ]
    await hass.async_block_till_done()
    assert [(e.data["contact"], e.data["success"]) for e in events] == [
        ("Gran", True),
        ("Plumber", True),
        ("Dad", True),
    ]
    assert {e.context.user_id for e in events} == {household_user.id}


async def test_a_script_started_by_a_non_admin_user_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: TimedSimulator,
    household_user: MockUser,
    hass_admin_user: MockUser,
) -> None:
    """A script runs with the context of whoever started it, user included.

    So a household member's dashboard script that escalates is refused like the
    action itself (as core's administrator-only actions are), while the same script
    started by an administrator rings.
    """
    await _set_up_script(hass, {"destinations": [ANSWERS]})

    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            "script",
            "escalate",
            blocking=True,
            context=Context(user_id=household_user.id),
        )
    assert simulator.calls == []

    await hass.services.async_call(
        "script", "escalate", blocking=True, context=Context(user_id=hass_admin_user.id)
    )
    assert simulator.rung_first == [ANSWERS]


# ---------------------------------------------------------------------------
# Static declarations
# ---------------------------------------------------------------------------


def test_services_yaml_declares_the_schemas_fields() -> None:
    """services.yaml declares the schema's fields, no source or reverse, selectors."""
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    fields = services[SERVICE_CALL_UNTIL_ANSWERED]["fields"]

    assert set(fields) == {str(key) for key in CALL_UNTIL_ANSWERED_SCHEMA.schema}
    assert not {"source", "reverse", "wait"} & set(fields)
    assert fields["contacts"]["selector"] == {
        "entity": {
            "multiple": True,
            "filter": [{"integration": DOMAIN, "domain": "button"}],
        }
    }
    assert fields["destinations"]["selector"] == {
        "text": {"type": "tel", "multiple": True}
    }
    assert fields["connect_to"]["selector"] == {"text": {"type": "tel"}}
    assert fields["rounds"]["selector"]["number"]["min"] == 1
    assert fields["rounds"]["selector"]["number"]["max"] == 10
    assert fields["delay"]["selector"]["number"]["min"] == 0
    assert fields["delay"]["selector"]["number"]["max"] == 600
    assert fields["delay"]["selector"]["number"]["unit_of_measurement"] == "s"


def test_call_until_answered_has_an_icon_and_translations() -> None:
    """icons.json gives the action an icon; en.json names it and describes each field."""
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert icons["services"][SERVICE_CALL_UNTIL_ANSWERED]["service"].startswith("mdi:")

    service = TRANSLATIONS["services"][SERVICE_CALL_UNTIL_ANSWERED]
    assert service["name"]
    assert service["description"]
    assert set(service["fields"]) == {
        str(key) for key in CALL_UNTIL_ANSWERED_SCHEMA.schema
    }
    for name, field in service["fields"].items():
        assert field["name"], name
        assert field["description"], name
    for key in (
        "attempts_none",
        "attempts_both",
        "unknown_contact",
        "contact_of_another_account",
        "contact_fields",
        "contact_rings_your_extension",
        "number_not_allowed",
    ):
        assert TRANSLATIONS["exceptions"][key]["message"], key
