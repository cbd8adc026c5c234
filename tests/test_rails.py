"""Safety rails: cooldown, simultaneous-call limit, allowlist, retry only what never left."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.spectronics_voip.const import (
    CONF_ADMIN_ONLY,
    CONF_ALLOWED_NUMBERS,
    CONF_CIDNAME,
    CONF_COOLDOWN,
    CONF_MAX_CONCURRENT_CALLS,
    CONF_WAIT,
    CONF_WAIT_TIMEOUT,
    DOMAIN,
    EVENT_CALL_RESULT,
)
from custom_components.spectronics_voip.dialer import (
    CallsStoppedError,
    Cooldown,
    LineLimiter,
    Waits,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .common import (
    LAST_CALL,
    call_result,
    free_port,
    make_entry,
    place_call,
    set_up_entry,
    translated,
)
from .simulator import EXTENSION, PATH, Fault, Simulator


async def _account(
    hass: HomeAssistant, simulator: Simulator, **options: Any
) -> MockConfigEntry:
    """Set up an account with these options, quick-dial Mum and a ringing Mobile."""
    return await set_up_entry(
        hass,
        make_entry(
            simulator.url,
            options=options,
            contacts={
                "Mum": {"destination": "07700900123"},
                "Mobile": {
                    "destination": "07700900456",
                    "ring_first": "contact_number",
                },
            },
        ),
    )


async def _press(hass: HomeAssistant, entity_id: str = "button.mum_call") -> None:
    """Press a contact's button."""
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def _start(hass: HomeAssistant, data: dict[str, Any]) -> asyncio.Task[ServiceResponse]:
    """Start a place_call action and return its task."""
    return hass.async_create_task(place_call(hass, data, return_response=True))


# ---------------------------------------------------------------------------
# Cooldown
# ---------------------------------------------------------------------------


async def test_identical_call_within_the_cooldown_is_not_sent(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The default 30 s cooldown suppresses an identical call: success, suppressed."""
    await _account(hass, simulator)
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    first = await place_call(hass, {"destination": "2001"}, return_response=True)
    second = await place_call(hass, {"destination": "20-01"}, return_response=True)

    assert len(simulator.calls) == 1
    assert first is not None
    assert second is not None
    assert first["suppressed"] is False
    assert second["suppressed"] is True
    assert second["success"] is True
    assert second["error"] is None
    message = second["message"]
    assert isinstance(message, str)
    assert message.startswith("not sent: an identical call succeeded 0 s ago (at ")
    assert message.endswith("), within the 30 s cooldown")
    assert [event.data["suppressed"] for event in events] == [False, True]
    assert call_result(events[1]) == second
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["suppressed"] is True


@pytest.mark.parametrize(
    "change",
    [
        {"destination": "2002"},
        {"source": "07700900123"},
        {"extension": "7654321"},
        {"cidname": "Other"},
        {"reverse": True},
    ],
    ids=["destination", "source", "extension", "cidname", "reverse"],
)
async def test_calls_that_differ_are_sent(
    hass: HomeAssistant, simulator: Simulator, change: dict[str, Any]
) -> None:
    """Only a call identical in destination, source, extension, name and order waits."""
    await _account(hass, simulator)

    await place_call(hass, {"destination": "2001"})
    await place_call(hass, {"destination": "2001"} | change)

    assert len(simulator.calls) == 2


async def test_an_answered_call_holds_back_the_same_call_with_or_without_wait(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A call identical to one answered rings the same phone: it is suppressed."""
    await _account(hass, simulator)

    await place_call(hass, {"destination": "2001", "wait": True})
    responses = [
        await place_call(
            hass, {"destination": "2001", "wait": wait}, return_response=True
        )
        for wait in (False, True)
    ]

    assert [call["wait"] for call in simulator.calls] == ["1"]
    for response in responses:
        assert response is not None
        assert response["suppressed"] is True
        message = response["message"]
        assert isinstance(message, str)
        assert message.startswith("not sent: an identical call was answered 0 s ago")


async def test_a_request_is_not_an_answer(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """After an accepted request (wait off), the same call waiting for the answer rings.

    OK to a call without wait means only that the provider took the request: nobody is
    known to have answered, so a caller asking for the answer gets a real one.
    """
    await _account(hass, simulator)

    await place_call(hass, {"destination": "2001"})
    again = await place_call(hass, {"destination": "2001"}, return_response=True)
    waiting = await place_call(
        hass, {"destination": "2001", "wait": True}, return_response=True
    )

    assert [call["wait"] for call in simulator.calls] == ["0", "1"]
    assert again is not None
    assert again["suppressed"] is True
    assert waiting is not None
    assert waiting["suppressed"] is False
    assert waiting["message"] == "Call answered"


async def test_a_failed_call_starts_no_cooldown(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """After a failure, the same call is sent again at once."""
    await _account(hass, simulator)
    simulator.set_fault("http503")
    with pytest.raises(HomeAssistantError):
        await place_call(hass, {"destination": "2001"})
    simulator.set_fault(None)

    response = await place_call(hass, {"destination": "2001"}, return_response=True)

    assert response is not None
    assert response["suppressed"] is False
    assert len(simulator.calls) == 1
    assert len(simulator.requests) == 3  # credentials check, the failure, the call


async def test_the_cooldown_ends(hass: HomeAssistant, simulator: Simulator) -> None:
    """After the window, the identical call is sent again."""
    await _account(hass, simulator, **{CONF_COOLDOWN: 1})

    await place_call(hass, {"destination": "2001"})
    await place_call(hass, {"destination": "2001"})
    assert len(simulator.calls) == 1
    await asyncio.sleep(1.05)
    await place_call(hass, {"destination": "2001"})

    assert len(simulator.calls) == 2


async def test_cooldown_zero_turns_the_guard_off(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """With a cooldown of 0, every identical call is sent."""
    await _account(hass, simulator, **{CONF_COOLDOWN: 0})

    for _ in range(3):
        await place_call(hass, {"destination": "2001"})

    assert len(simulator.calls) == 3


async def test_identical_calls_at_once_ring_once(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Identical calls started together wait for the first: one rings, the rest don't."""
    await _account(hass, simulator)
    simulator.ring_time = 0.2

    responses = await asyncio.gather(
        *[_start(hass, {"destination": "2001", "wait": True}) for _ in range(5)]
    )

    assert len(simulator.calls) == 1
    assert [response["suppressed"] for response in responses if response] == [
        False,
        True,
        True,
        True,
        True,
    ]


async def test_identical_calls_at_once_after_a_failure_are_each_tried(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """When the first of identical calls fails, the next one is sent."""
    await _account(hass, simulator)
    simulator.ring_time = 0.1
    simulator.phones[EXTENSION] = "reject"
    tasks = [_start(hass, {"destination": "2001", "wait": True}) for _ in range(2)]

    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert all(isinstance(result, HomeAssistantError) for result in results)
    assert len(simulator.calls) == 2


async def test_cooldown_holds_across_call_paths(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A press, then the same call by the action and the button again: one ring."""
    await _account(hass, simulator)
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    await _press(hass)
    await place_call(hass, {"destination": "07700900123"})
    await _press(hass)

    assert len(simulator.calls) == 1
    assert [event.data["suppressed"] for event in events] == [False, True, True]
    assert [event.data["contact"] for event in events] == ["Mum", None, "Mum"]


# ---------------------------------------------------------------------------
# Simultaneous calls
# ---------------------------------------------------------------------------


async def test_calls_beyond_the_limit_wait_their_turn_in_order(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """With a limit of 2, 6 waiting calls ring 2 at a time, in order, none dropped."""
    await _account(hass, simulator, **{CONF_MAX_CONCURRENT_CALLS: 2})
    simulator.ring_time = 0.1
    numbers = [f"200{i}" for i in range(6)]

    responses = await asyncio.gather(
        *[_start(hass, {"destination": number, "wait": True}) for number in numbers]
    )

    assert simulator.max_in_flight == 2
    assert [call["destination"] for call in simulator.calls] == numbers
    assert [response["message"] for response in responses if response] == [
        "Call answered"
    ] * 6


async def test_the_default_limit_is_four(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Without the option, 10 waiting calls: never more than 4 at the provider.

    All are answered, and they reach the provider in the order they were placed.
    """
    await _account(hass, simulator)
    simulator.ring_time = 0.1
    numbers = [f"300{i}" for i in range(10)]

    responses = await asyncio.gather(
        *[_start(hass, {"destination": number, "wait": True}) for number in numbers]
    )

    assert simulator.max_in_flight == 4
    assert [call["destination"] for call in simulator.calls] == numbers
    assert [response["message"] for response in responses if response] == [
        "Call answered"
    ] * 10


async def test_the_limit_holds_across_call_paths(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A limit of 1: an action, a press and a notify at once ring one at a time."""
    await _account(hass, simulator, **{CONF_MAX_CONCURRENT_CALLS: 1})
    simulator.ring_time = 0.1

    await asyncio.gather(
        _start(hass, {"destination": "2001", "wait": True}),
        _press(hass),
        hass.services.async_call(
            "notify",
            "send_message",
            {ATTR_ENTITY_ID: "notify.mobile", "message": "Dinner"},
            blocking=True,
        ),
    )

    assert simulator.max_in_flight == 1
    assert [
        (call.get("source"), call["destination"], call.get("cidname"))
        for call in simulator.calls
    ] == [
        (None, "2001", None),
        (None, "07700900123", None),
        ("07700900456", EXTENSION, "Dinner"),
    ]


async def test_raising_the_limit_starts_waiting_calls(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A higher limit in the options lets queued calls go at once, no reload."""
    entry = await _account(hass, simulator, **{CONF_MAX_CONCURRENT_CALLS: 1})
    simulator.ring_time = 0.5
    tasks = [_start(hass, {"destination": f"400{i}", "wait": True}) for i in range(3)]
    await _until(lambda: simulator.in_flight == 1)
    requests = len(simulator.requests)

    hass.config_entries.async_update_entry(
        entry, options={CONF_MAX_CONCURRENT_CALLS: 3}
    )
    await _until(lambda: simulator.in_flight == 3)
    await asyncio.gather(*tasks)

    assert len(simulator.requests) == requests + 2  # no reload, no credentials check
    assert entry.state is ConfigEntryState.LOADED


async def test_queued_calls_are_cancelled_by_an_unload(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Calls waiting for a line when the account unloads are cancelled, never sent."""
    entry = await _account(hass, simulator, **{CONF_MAX_CONCURRENT_CALLS: 1})
    simulator.ring_time = 30
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    tasks = [_start(hass, {"destination": f"500{i}", "wait": True}) for i in range(3)]
    await _until(lambda: simulator.in_flight == 1)

    assert await hass.config_entries.async_unload(entry.entry_id)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0.1)

    assert [getattr(result, "translation_key", None) for result in results] == [
        "call_failed_cancelled"
    ] * 3
    assert [call["destination"] for call in simulator.calls] == ["5000"]
    assert sorted(event.data["error"] for event in events) == ["cancelled"] * 3


async def test_a_caller_leaving_the_queue_keeps_the_line_order(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A queued call whose caller stops waiting still rings, in its turn."""
    await _account(hass, simulator, **{CONF_MAX_CONCURRENT_CALLS: 1})
    simulator.ring_time = 0.2
    first = _start(hass, {"destination": "6000", "wait": True})
    second = _start(hass, {"destination": "6001", "wait": True})
    third = _start(hass, {"destination": "6002", "wait": True})
    await _until(lambda: simulator.in_flight == 1)

    second.cancel()
    await asyncio.gather(first, third)
    await _until(lambda: len(simulator.calls) == 3 and simulator.in_flight == 0)

    assert [call["destination"] for call in simulator.calls] == ["6000", "6001", "6002"]
    assert simulator.max_in_flight == 1


# ---------------------------------------------------------------------------
# Allowed numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "number"),
    [
        ({"destination": "09098790000"}, "destination", "09098790000"),
        ({"destination": "+44 20 7946 0000"}, "destination", "+442079460000"),
        ({"destination": "2001", "source": "0909 879 0000"}, "source", "09098790000"),
    ],
    ids=["premium", "other-prefix", "source"],
)
async def test_a_number_not_allowed_is_refused_before_sending(
    hass: HomeAssistant,
    simulator: Simulator,
    data: dict[str, Any],
    field: str,
    number: str,
) -> None:
    """A destination or source matching no allowed number is a validation error."""
    await _account(hass, simulator, **{CONF_ALLOWED_NUMBERS: ["+447*", "2001"]})
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    with pytest.raises(ServiceValidationError) as exc_info:
        await place_call(hass, data)

    err = exc_info.value
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "number_not_allowed"
    assert err.translation_placeholders == {"number": number}
    assert field in data  # the field the number was given in
    assert str(err) == translated("number_not_allowed", err.translation_placeholders)
    assert simulator.calls == []
    assert events == []


@pytest.mark.parametrize(
    "data",
    [
        {"destination": "2001"},
        {"destination": "+44 7700 900123"},
        {"destination": "2001", "source": "+447700900999"},
    ],
    ids=["exact", "prefix", "source-prefix"],
)
async def test_allowed_numbers_are_sent(
    hass: HomeAssistant, simulator: Simulator, data: dict[str, Any]
) -> None:
    """Exact numbers and prefixes match after the call's own normalization."""
    await _account(hass, simulator, **{CONF_ALLOWED_NUMBERS: ["+447*", "2001"]})

    await place_call(hass, data)

    assert len(simulator.calls) == 1


async def test_a_contact_not_allowed_is_refused_on_press(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The allowlist holds for a contact's button as for the action."""
    await _account(hass, simulator, **{CONF_ALLOWED_NUMBERS: ["2001"]})

    with pytest.raises(ServiceValidationError) as exc_info:
        await _press(hass)

    assert exc_info.value.translation_key == "number_not_allowed"
    assert simulator.calls == []


# ---------------------------------------------------------------------------
# Options flow
# ---------------------------------------------------------------------------


async def test_rails_in_the_options_flow(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The rails are options; allowed numbers are checked and normalized, then used."""
    entry = await _account(hass, simulator)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    user_input = {
        CONF_CIDNAME: "",
        CONF_WAIT: False,
        CONF_WAIT_TIMEOUT: 120,
        CONF_COOLDOWN: 0,
        CONF_MAX_CONCURRENT_CALLS: 10,
        CONF_ALLOWED_NUMBERS: ["+44 7*", "call me"],
        CONF_ADMIN_ONLY: False,
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ALLOWED_NUMBERS: "invalid_allowed_number"}
    assert entry.options == {}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        user_input | {CONF_ALLOWED_NUMBERS: ["+44 7*", " 20-01 ", "", "2001"]},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == user_input | {
        CONF_ALLOWED_NUMBERS: ["+447*", "2001"],
        "connect_to": "",
        "max_calls_per_hour": 60,
        "max_calls_per_day": 200,
    }
    with pytest.raises(ServiceValidationError):
        await place_call(hass, {"destination": "2002"})
    await place_call(hass, {"destination": "2001"})
    await place_call(hass, {"destination": "2001"})
    assert len(simulator.calls) == 2  # the cooldown is off


# ---------------------------------------------------------------------------
# Retrying what never reached the provider
# ---------------------------------------------------------------------------


@pytest.fixture
async def closed_entry(hass: HomeAssistant, simulator: Simulator) -> MockConfigEntry:
    """Return a loaded account whose API URL then points at a closed port."""
    entry = await _account(hass, simulator)
    entry.runtime_data.client.url = f"http://127.0.0.1:{free_port()}{PATH}"
    return entry


async def test_no_connection_is_retried_twice(
    hass: HomeAssistant,
    closed_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refused connection is tried three times in all, then fails as one call."""
    caplog.set_level(logging.DEBUG, logger="custom_components.spectronics_voip")
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2001"})

    assert exc_info.value.translation_key == "call_failed_connection"
    retries = [
        record.getMessage()
        for record in caplog.records
        if "trying again" in record.getMessage()
    ]
    assert [line.split(":")[0] for line in retries] == [
        "No connection to the API, nothing sent; trying again in 0.01 s",
        "No connection to the API, nothing sent; trying again in 0.02 s",
    ]
    assert len(events) == 1
    assert events[0].data["error"] == "connection"


async def test_a_retry_reaches_a_provider_that_came_back(
    hass: HomeAssistant, simulator: Simulator, closed_entry: MockConfigEntry
) -> None:
    """When the provider is reachable again by a retry, the call is sent once."""
    dialer = closed_entry.runtime_data
    dialer.retry_delays = (0.3,)
    task = _start(hass, {"destination": "2001"})
    await asyncio.sleep(0.1)
    dialer.client.url = simulator.url  # as if the provider came back

    response = await task

    assert response is not None
    assert response["success"] is True
    assert len(simulator.calls) == 1


@pytest.mark.parametrize(
    "fault",
    [
        "reset",
        "drop",
        "http500",
        "html",
        Fault(body=b"ERR:Service unavailable"),
        Fault(delay=1.0, then_model=True),
    ],
    ids=["reset-after-sending", "dropped", "http500", "html", "ERR", "timeout"],
)
async def test_anything_that_may_have_reached_the_provider_is_not_retried(
    hass: HomeAssistant, simulator: Simulator, fault: str | Fault
) -> None:
    """A reply, a reset after sending, or a timeout: exactly one request."""
    entry = await _account(hass, simulator)
    entry.runtime_data.client.request_timeout = 0.3
    simulator.set_fault(fault)
    requests = len(simulator.requests)

    with pytest.raises(HomeAssistantError):
        await place_call(hass, {"destination": "2001"})
    await asyncio.sleep(0.1)

    assert len(simulator.requests) == requests + 1


@pytest.mark.slow
async def test_retry_pauses_one_then_two_seconds(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The real pauses: 1 s, then 2 s; the provider back after 1.5 s gets the third try."""
    port = free_port()
    entry = await _account(hass, simulator)
    entry.runtime_data.retry_delays = (1.0, 2.0)
    assert entry.runtime_data.retry_delays == _real_retry_delays()
    entry.runtime_data.client.url = f"http://127.0.0.1:{port}{PATH}"
    late = Simulator()
    started = time.monotonic()
    task = _start(hass, {"destination": "2001"})

    await asyncio.sleep(1.5)
    await late.start(port=port)
    try:
        response = await task
        elapsed = time.monotonic() - started
    finally:
        await late.stop()

    assert response is not None
    assert response["success"] is True
    assert len(late.calls) == 1
    assert 2.9 < elapsed < 4.5


def _real_retry_delays() -> tuple[float, ...]:
    """Return the pauses the integration ships with (the suite shortens them)."""
    from custom_components.spectronics_voip import const  # noqa: PLC0415

    return const.RETRY_DELAYS


async def _until(condition: Any, timeout: float = 5) -> None:
    """Wait until `condition()` holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_limiter_skips_a_waiter_cancelled_as_a_line_frees() -> None:
    """A queued call cancelled in the same loop step as a line frees is skipped."""
    lines = LineLimiter(lambda: 1)
    await lines.__aenter__()  # the one line is taken
    cancelled = asyncio.create_task(lines.__aenter__())
    waiting = asyncio.create_task(lines.__aenter__())
    await asyncio.sleep(0)
    assert (lines.active, lines.queued) == (1, 2)

    cancelled.cancel()  # its waiter is cancelled now, its task has not run yet
    await lines.__aexit__(None, None, None)  # the line frees in the same step
    await asyncio.sleep(0)

    assert cancelled.cancelled()
    assert waiting.done()
    assert (lines.active, lines.queued) == (1, 0)


async def test_limiter_passes_on_a_line_given_to_a_cancelled_call() -> None:
    """A call cancelled just after it was given a line passes the line on."""
    lines = LineLimiter(lambda: 1)
    await lines.__aenter__()
    given = asyncio.create_task(lines.__aenter__())
    waiting = asyncio.create_task(lines.__aenter__())
    await asyncio.sleep(0)

    await lines.__aexit__(None, None, None)  # the line goes to `given` ...
    given.cancel()  # ... which is cancelled before it runs again
    await asyncio.sleep(0)
    await asyncio.sleep(0)

    assert given.cancelled()
    assert waiting.done()
    assert (lines.active, lines.queued) == (1, 0)


async def test_limiter_follows_a_raised_limit() -> None:
    """Raising the limit and waking the limiter starts waiting calls at once."""
    limit = 1
    lines = LineLimiter(lambda: limit)
    await lines.__aenter__()
    waiting = [asyncio.create_task(lines.__aenter__()) for _ in range(3)]
    await asyncio.sleep(0)
    assert (lines.active, lines.queued) == (1, 3)

    limit = 3
    lines.wake()
    await asyncio.sleep(0)

    assert [task.done() for task in waiting] == [True, True, False]
    assert (lines.active, lines.queued) == (3, 1)
    waiting[2].cancel()
    await asyncio.gather(waiting[2], return_exceptions=True)
    assert (lines.active, lines.queued) == (3, 0)


async def test_the_cooldown_forgets_old_calls() -> None:
    """Many distinct calls do not pile up: those past their cooldown are dropped."""
    cooldown = Cooldown(lambda: 1.0, Waits())

    def succeed(destination: str) -> None:
        with cooldown.sending((destination, None, None, None, False), answered=False):
            pass

    for i in range(200):
        succeed(f"7{i:03d}")
    await asyncio.sleep(1.05)
    for i in range(100):
        succeed(f"8{i:03d}")

    assert 100 <= len(cooldown) < 200
    # What it forgot was past its cooldown: such a call goes again anyway.
    assert (
        await cooldown.async_held_back(("7000", None, None, None, False), wait=False)
        is None
    )
    assert await cooldown.async_held_back(("8000", None, None, None, False), wait=False)


async def test_the_cooldown_holds_back_only_an_identical_call() -> None:
    """Another number, source, extension, caller name or order is another call."""
    cooldown = Cooldown(lambda: 30.0, Waits())
    key = ("2001", "07700900123", "1234567", "Home", False)
    with cooldown.sending(key, answered=False):
        pass

    held_back = await cooldown.async_held_back(key, wait=False)

    assert held_back is not None
    assert held_back.startswith("not sent: an identical call succeeded 0 s ago")
    for other in (
        ("2002", "07700900123", "1234567", "Home", False),
        ("2001", None, "1234567", "Home", False),
        ("2001", "07700900123", "7654321", "Home", False),
        ("2001", "07700900123", "1234567", None, False),
        ("2001", "07700900123", "1234567", "Home", True),
    ):
        assert await cooldown.async_held_back(other, wait=False) is None
    # Nobody answered a request sent without wait: a waiting call goes.
    assert await cooldown.async_held_back(key, wait=True) is None


async def test_a_call_that_fails_starts_no_cooldown() -> None:
    """The cooldown remembers a call only once it succeeded."""
    cooldown = Cooldown(lambda: 30.0, Waits())
    key = ("2001", None, None, None, False)

    with pytest.raises(RuntimeError), cooldown.sending(key, answered=True):
        raise RuntimeError

    assert len(cooldown) == 0
    assert await cooldown.async_held_back(key, wait=True) is None


async def test_waiting_calls_wake_or_are_stopped() -> None:
    """A call waits for an identical one or for a delay; Stop calls drops it at once."""
    waits = Waits()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    behind = asyncio.create_task(waits.wait(done))
    later = asyncio.create_task(waits.wait(delay=0.01))
    await asyncio.sleep(0)
    assert len(waits) == 2

    done.set_result(None)
    await behind
    await later
    assert len(waits) == 0

    # Stopped, then its identical call ends before it resumes: it stays stopped.
    done = asyncio.get_running_loop().create_future()
    stopped = asyncio.create_task(waits.wait(done, delay=60))
    await asyncio.sleep(0)
    assert waits.stop_waiting() == 1
    done.set_result(None)
    with pytest.raises(CallsStoppedError):
        await stopped
    await asyncio.sleep(0)  # the identical call's wake-up finds it stopped
    assert (len(waits), waits.stop_waiting()) == (0, 0)
