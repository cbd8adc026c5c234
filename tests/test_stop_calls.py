"""Stop calls: the stop_calls action and the account's Stop calls button.

Both end every running call_until_answered of the account (no attempt starts after)
and drop every call waiting for a free line, each reported once as "stopped". A
request already sent rings on: the provider has no hang-up. Nothing is refused
afterwards, and stopping is open to every user, whatever admin_only says.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
)
import yaml

from custom_components.spectronics_voip.const import (
    CONF_COOLDOWN,
    CONF_MAX_CONCURRENT_CALLS,
    DOMAIN,
    EVENT_CALL_RESULT,
    SERVICE_CALL_UNTIL_ANSWERED,
    SERVICE_STOP_CALLS,
    STOPPED_MESSAGE,
)
from custom_components.spectronics_voip.dialer import CallsStoppedError, LineLimiter
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.setup import async_setup_component

from .common import (
    ANSWERS,
    DAD_NOTIFY,
    INTEGRATION,
    MUM,
    REJECTS,
    TODAY,
    TRANSLATIONS,
    call_result,
    make_entry,
    place_call,
    set_up_entry,
    set_up_mum_and_dad,
    translated,
    until,
)
from .simulator import OTHER_EXTENSION, SINGLE_TOKEN, Simulator

STOP = "button.extension_1234567_stop_calls"
OFFICE_STOP = "button.extension_7654321_stop_calls"


async def _office(hass: HomeAssistant, simulator: Simulator) -> MockConfigEntry:
    """Set up a second account, extension 7654321 on a single-extension token."""
    return await set_up_entry(
        hass,
        make_entry(simulator.url, extension=OTHER_EXTENSION, token=SINGLE_TOKEN),
    )


async def _stop(
    hass: HomeAssistant,
    data: dict[str, Any] | None = None,
    *,
    context: Context | None = None,
    return_response: bool = True,
) -> dict[str, Any] | None:
    """Run stop_calls and return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        SERVICE_STOP_CALLS,
        data or {},
        blocking=True,
        context=context,
        return_response=return_response,
    )
    return None if response is None else dict(response)


def _start_escalation(
    hass: HomeAssistant, data: dict[str, Any]
) -> asyncio.Task[dict[str, Any]]:
    """Start call_until_answered; return the task that returns its response."""

    async def escalate() -> dict[str, Any]:
        response = await hass.services.async_call(
            DOMAIN,
            SERVICE_CALL_UNTIL_ANSWERED,
            data,
            blocking=True,
            return_response=True,
        )
        assert response is not None
        return dict(response)

    return hass.async_create_task(escalate())


def _start_call(hass: HomeAssistant, data: dict[str, Any]) -> asyncio.Task[Any]:
    """Start a place_call action; return its task."""
    return hass.async_create_task(place_call(hass, data, return_response=True))


def _start_press(hass: HomeAssistant, entity_id: str) -> asyncio.Task[Any]:
    """Start pressing a button; return its task."""
    return hass.async_create_task(
        hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True
        )
    )


def _start_notify(hass: HomeAssistant) -> asyncio.Task[Any]:
    """Start a message to Dad's notify entity; return its task."""
    return hass.async_create_task(
        hass.services.async_call(
            "notify",
            "send_message",
            {ATTR_ENTITY_ID: DAD_NOTIFY, "message": "Smoke alarm"},
            blocking=True,
        )
    )


async def _press_stop(
    hass: HomeAssistant, entity_id: str = STOP, context: Context | None = None
) -> None:
    """Press a Stop calls button."""
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True, context=context
    )


async def _stop_by(
    hass: HomeAssistant, how: str, context: Context | None = None
) -> None:
    """Stop the account's calls with the action or its button."""
    if how == "action":
        await _stop(hass, context=context, return_response=False)
    else:
        await _press_stop(hass, context=context)


def _assert_stopped(err: BaseException) -> None:
    """Assert the translated error of a call that Stop calls dropped."""
    assert isinstance(err, HomeAssistantError)
    assert not isinstance(err, ServiceValidationError)
    assert err.translation_domain == DOMAIN
    assert err.translation_key == "call_stopped"
    assert err.translation_placeholders == {"message": STOPPED_MESSAGE}
    assert str(err) == translated("call_stopped")


# ---------------------------------------------------------------------------
# Stop during an escalation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["action", "button"])
async def test_stop_while_an_attempt_rings(
    hass: HomeAssistant, simulator: Simulator, how: str
) -> None:
    """The attempt at the provider rings on; no attempt starts after it."""
    await set_up_mum_and_dad(hass, simulator)
    simulator.ring_time = 0.5
    escalation = _start_escalation(
        hass, {"destinations": [REJECTS, ANSWERS], "rounds": 3}
    )
    await until(lambda: simulator.in_flight)
    sent = len(simulator.requests)

    await _stop_by(hass, how)
    response = await escalation

    assert response["success"] is False
    assert response["answered_by"] is None
    assert response["stopped_by"] == "stop_calls"
    assert [(a["source"], a["message"]) for a in response["attempts"]] == [
        (REJECTS, "Call rejected")
    ]
    assert len(simulator.requests) == sent
    assert simulator.rung_first == [REJECTS]


async def test_stop_during_the_delay(hass: HomeAssistant, simulator: Simulator) -> None:
    """Stopped between two attempts, the escalation ends at once, not after the delay."""
    await set_up_mum_and_dad(hass, simulator)
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    escalation = _start_escalation(
        hass, {"destinations": [REJECTS, ANSWERS], "delay": 600}
    )
    await until(lambda: events)

    stopped = await _stop(hass)

    assert stopped == {"escalations": 1, "calls": 0}
    async with asyncio.timeout(5):
        response = await escalation
    assert response["stopped_by"] == "stop_calls"
    assert [a["source"] for a in response["attempts"]] == [REJECTS]
    assert simulator.rung_first == [REJECTS]
    await hass.async_block_till_done()
    assert len(events) == 1


@pytest.mark.parametrize("stop", [True, False], ids=["stopped", "not-stopped"])
async def test_stop_during_the_last_attempt(
    hass: HomeAssistant, simulator: Simulator, stop: bool
) -> None:
    """Stopped while its last attempt rings, an unanswered escalation says so."""
    await set_up_mum_and_dad(hass, simulator)
    simulator.ring_time = 0.5
    escalation = _start_escalation(hass, {"destinations": [REJECTS]})
    await until(lambda: simulator.in_flight)

    if stop:
        assert await _stop(hass) == {"escalations": 1, "calls": 0}
    response = await escalation

    assert response["success"] is False
    assert response["stopped_by"] == ("stop_calls" if stop else None)
    assert [a["source"] for a in response["attempts"]] == [REJECTS]


async def test_an_answer_after_the_stop_is_still_the_answer(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The attempt ringing when Stop is pressed answers: the escalation succeeded."""
    await set_up_mum_and_dad(hass, simulator)
    simulator.ring_time = 0.5
    escalation = _start_escalation(hass, {"destinations": [ANSWERS, REJECTS]})
    await until(lambda: simulator.in_flight)

    assert await _stop(hass) == {"escalations": 1, "calls": 0}
    response = await escalation

    assert response["success"] is True
    assert response["answered_by"] == ANSWERS
    assert response["stopped_by"] is None
    assert simulator.rung_first == [ANSWERS]


# ---------------------------------------------------------------------------
# Calls waiting for a line
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["action", "button"])
async def test_stop_drops_every_call_waiting_for_a_line(
    hass: HomeAssistant, simulator: Simulator, how: str
) -> None:
    """None of the queued calls is sent; each is reported once; the ringing one rings on."""
    entry = await set_up_mum_and_dad(hass, simulator, **{CONF_MAX_CONCURRENT_CALLS: 1})
    simulator.ring_time = 1
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    ringing = _start_call(hass, {"destination": "2001", "wait": True})
    await until(lambda: simulator.in_flight)
    queued = [
        _start_call(hass, {"destination": "2002"}),
        _start_call(hass, {"destination": "2003", "wait": True}),
        _start_press(hass, MUM),
        _start_notify(hass),
    ]
    escalation = _start_escalation(hass, {"contacts": ["button.dad_call"]})
    await until(lambda: entry.runtime_data.lines.queued == 5)
    # Six reserved against the budget; none in the counts until its outcome is known.
    assert len(entry.runtime_data.budget.dump()) == 6
    assert hass.states.get(TODAY).state == "0"  # type: ignore[union-attr]

    await _stop_by(hass, how)

    for task in queued:
        with pytest.raises(HomeAssistantError) as exc_info:
            await task
        _assert_stopped(exc_info.value)
    response = await escalation
    assert response["stopped_by"] == "stop_calls"
    [attempt] = response["attempts"]
    assert attempt["contact"] == "Dad"
    assert attempt["error"] == "stopped"
    answered = await ringing
    assert answered["message"] == "Call answered"
    await hass.async_block_till_done()
    assert [call["destination"] for call in simulator.calls] == ["2001"]
    assert len(simulator.requests) == 2  # the credentials check, the ringing call
    stopped = [event for event in events if event.data["error"] == "stopped"]
    assert len(stopped) == 5
    assert Counter(
        (event.data["contact"], event.data["destination"]) for event in stopped
    ) == Counter(
        [
            (None, "2002"),
            (None, "2003"),
            ("Mum", "07700900456"),
            ("Dad", "1234567"),
            ("Dad", "1234567"),
        ]
    )
    for event in stopped:
        assert event.data["success"] is False
        assert event.data["message"] == STOPPED_MESSAGE
    assert attempt in [call_result(event) for event in stopped]
    assert len(events) == 6
    assert hass.states.get(TODAY).state == "1"  # type: ignore[union-attr]


async def test_the_stop_response_counts_escalations_and_dropped_calls(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """An escalation whose attempt waits for a line is counted in both."""
    entry = await set_up_mum_and_dad(hass, simulator, **{CONF_MAX_CONCURRENT_CALLS: 1})
    simulator.ring_time = 1
    ringing = _start_call(hass, {"destination": "2001", "wait": True})
    await until(lambda: simulator.in_flight)
    queued = _start_call(hass, {"destination": "2002"})
    escalation = _start_escalation(hass, {"destinations": [ANSWERS]})
    await until(lambda: entry.runtime_data.lines.queued == 2)

    assert await _stop(hass) == {"escalations": 1, "calls": 2}

    with pytest.raises(HomeAssistantError):
        await queued
    assert (await escalation)["stopped_by"] == "stop_calls"
    await ringing
    assert await _stop(hass) == {"escalations": 0, "calls": 0}


# A call identical to one in flight waits for it in the cooldown, before it is
# counted or queued for a line: Stop calls drops it there too, so it is never sent
# once the call in flight fails.
async def test_stop_drops_a_call_waiting_for_an_identical_one(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A call held behind the identical call in flight is dropped too, never sent."""
    entry = await set_up_mum_and_dad(hass, simulator, **{CONF_COOLDOWN: 30})
    simulator.ring_time = 1
    data = {"source": "2001486", "destination": "2000", "wait": True}
    ringing = _start_call(hass, data)
    await until(lambda: simulator.in_flight)
    waiting = _start_call(hass, data)
    await until(lambda: len(entry.runtime_data.waits) == 1)

    stopped = await _stop(hass)
    results = await asyncio.gather(ringing, waiting, return_exceptions=True)

    assert [getattr(r, "translation_key", None) for r in results] == [
        "call_failed_api",
        "call_stopped",
    ]
    assert stopped == {"escalations": 0, "calls": 1}
    assert len(simulator.calls) == 1


async def test_stop_drops_a_call_waiting_to_try_again(
    hass: HomeAssistant, simulator: Simulator, closed_url: str
) -> None:
    """A call waiting to try a connection again is dropped, never sent, not counted."""
    entry = await set_up_mum_and_dad(hass, simulator)
    dialer = entry.runtime_data
    dialer.retry_delays = (60,)
    dialer.client.url = closed_url
    waiting = _start_call(hass, {"destination": "2001"})
    await until(lambda: len(dialer.waits) == 1)
    dialer.client.url = simulator.url  # the next try would connect

    assert await _stop(hass) == {"escalations": 0, "calls": 1}

    with pytest.raises(HomeAssistantError) as exc_info:
        await waiting
    assert exc_info.value.translation_key == "call_stopped"
    assert simulator.calls == []
    assert dialer.budget.dump() == []
    assert hass.states.get(TODAY).state == "0"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------
# One account or every account
# ---------------------------------------------------------------------------


async def test_stop_calls_without_an_account_stops_every_account(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Both accounts' escalations end; the response adds them up."""
    home = await set_up_mum_and_dad(hass, simulator)
    office = await _office(hass, simulator)
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    escalations = [
        _start_escalation(
            hass,
            {
                "config_entry_id": entry.entry_id,
                "destinations": [REJECTS, ANSWERS],
                "delay": 600,
            },
        )
        for entry in (home, office)
    ]
    await until(lambda: len(events) == 2)

    assert await _stop(hass) == {"escalations": 2, "calls": 0}

    async with asyncio.timeout(5):
        responses = await asyncio.gather(*escalations)
    assert [r["stopped_by"] for r in responses] == ["stop_calls"] * 2
    assert [r["attempts"][0]["config_entry_id"] for r in responses] == [
        home.entry_id,
        office.entry_id,
    ]
    assert simulator.rung_first == [REJECTS, REJECTS]


@pytest.mark.parametrize("how", ["action", "button"])
async def test_stop_calls_of_one_account(
    hass: HomeAssistant, simulator: Simulator, how: str
) -> None:
    """Stopping one account leaves the other's escalation running."""
    home = await set_up_mum_and_dad(hass, simulator)
    office = await _office(hass, simulator)
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    home_escalation, office_escalation = (
        _start_escalation(
            hass,
            {
                "config_entry_id": entry.entry_id,
                "destinations": [REJECTS, ANSWERS],
                "delay": 0.5,
            },
        )
        for entry in (home, office)
    )
    await until(lambda: len(events) == 2)

    if how == "action":
        assert await _stop(hass, {"config_entry_id": home.entry_id}) == {
            "escalations": 1,
            "calls": 0,
        }
    else:
        await _press_stop(hass)

    async with asyncio.timeout(5):
        home_response = await home_escalation
    assert home_response["stopped_by"] == "stop_calls"
    assert not office_escalation.done()
    office_response = await office_escalation
    assert office_response["answered_by"] == ANSWERS
    assert office_response["stopped_by"] is None
    assert simulator.rung_first == [REJECTS, REJECTS, ANSWERS]


async def test_stop_calls_with_nothing_to_stop(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Nothing running: zero of each; no response unless asked; no account: zero."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert await _stop(hass) == {"escalations": 0, "calls": 0}
    entry = await set_up_mum_and_dad(hass, simulator)

    assert await _stop(hass) == {"escalations": 0, "calls": 0}
    assert await _stop(hass, {"config_entry_id": entry.entry_id}) == {
        "escalations": 0,
        "calls": 0,
    }
    assert await _stop(hass, return_response=False) is None
    assert len(simulator.requests) == 1  # the credentials check


async def test_stop_calls_of_an_unknown_or_unloaded_account(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Naming an account that does not exist, or is not loaded, is refused."""
    entry = await set_up_mum_and_dad(hass, simulator)
    with pytest.raises(ServiceValidationError) as exc_info:
        await _stop(hass, {"config_entry_id": "nope"})
    assert exc_info.value.translation_key == "entry_not_found"

    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as exc_info:
        await _stop(hass, {"config_entry_id": entry.entry_id})
    assert exc_info.value.translation_key == "entry_not_loaded"


@pytest.mark.parametrize("how", ["action", "button"])
async def test_calls_after_a_stop_are_sent(
    hass: HomeAssistant, simulator: Simulator, how: str
) -> None:
    """Stop calls refuses nothing new: a call and a whole escalation go after it."""
    await set_up_mum_and_dad(hass, simulator)
    simulator.ring_time = 0
    escalation = _start_escalation(
        hass, {"destinations": [REJECTS, ANSWERS], "delay": 600}
    )
    await until(lambda: simulator.calls)
    await _stop_by(hass, how)
    assert (await escalation)["stopped_by"] == "stop_calls"

    placed = await place_call(hass, {"destination": "2001"}, return_response=True)
    response = await _start_escalation(hass, {"destinations": [REJECTS, ANSWERS]})

    assert placed is not None
    assert placed["success"] is True
    assert response["answered_by"] == ANSWERS
    assert response["stopped_by"] is None
    assert simulator.rung_first == [REJECTS, "1234567", REJECTS, ANSWERS]


# ---------------------------------------------------------------------------
# Open to every user
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["action", "button"])
async def test_a_household_member_may_stop_calls(
    hass: HomeAssistant,
    simulator: Simulator,
    household_user: MockUser,
    how: str,
) -> None:
    """With admin_only on, a non-administrator may not call but may stop calls."""
    await set_up_mum_and_dad(hass, simulator)
    context = Context(user_id=household_user.id)
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "place_call",
            {"destination": "2001"},
            blocking=True,
            context=context,
        )
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    escalation = _start_escalation(
        hass, {"destinations": [REJECTS, ANSWERS], "delay": 600}
    )
    await until(lambda: events)

    await _stop_by(hass, how, context)

    async with asyncio.timeout(5):
        response = await escalation
    assert response["stopped_by"] == "stop_calls"
    assert simulator.rung_first == [REJECTS]


async def test_a_read_only_user_may_run_stop_calls(
    hass: HomeAssistant, simulator: Simulator, hass_read_only_user: MockUser
) -> None:
    """Even a read-only user's stop_calls ends the escalation."""
    await set_up_mum_and_dad(hass, simulator)
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    escalation = _start_escalation(
        hass, {"destinations": [REJECTS, ANSWERS], "delay": 600}
    )
    await until(lambda: events)

    stopped = await _stop(hass, context=Context(user_id=hass_read_only_user.id))

    assert stopped == {"escalations": 1, "calls": 0}
    assert (await escalation)["stopped_by"] == "stop_calls"


# ---------------------------------------------------------------------------
# The button, the declarations, the line limiter
# ---------------------------------------------------------------------------


async def test_the_stop_calls_button(hass: HomeAssistant, simulator: Simulator) -> None:
    """Each account has one, on its own device, named and with an icon."""
    await set_up_mum_and_dad(hass, simulator)
    await _office(hass, simulator)

    for entity_id in (STOP, OFFICE_STOP):
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == "unknown"
    state = hass.states.get(STOP)
    assert state is not None
    assert state.attributes["friendly_name"] == "Extension 1234567 Stop calls"

    await _press_stop(hass)
    state = hass.states.get(STOP)
    assert state is not None
    assert state.state != "unknown"


def test_stop_calls_is_declared() -> None:
    """services.yaml, the translations and icons.json describe the action."""
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    assert services[SERVICE_STOP_CALLS] == {
        "fields": {
            "config_entry_id": {"selector": {"config_entry": {"integration": DOMAIN}}}
        }
    }
    text = TRANSLATIONS["services"][SERVICE_STOP_CALLS]
    assert text["name"] == "Stop calls"
    assert text["description"]
    assert text["fields"]["config_entry_id"]["description"]
    assert TRANSLATIONS["entity"]["button"]["stop_calls"]["name"] == "Stop calls"
    assert TRANSLATIONS["exceptions"]["call_stopped"]["message"]


async def test_the_limiter_skips_a_waiter_cancelled_as_calls_are_stopped() -> None:
    """A queued call cancelled in the same step as the stop is not counted dropped."""
    lines = LineLimiter(lambda: 1)
    await lines.__aenter__()
    cancelled = asyncio.create_task(lines.__aenter__())
    dropped = asyncio.create_task(lines.__aenter__())
    await asyncio.sleep(0)

    cancelled.cancel()  # its waiter is cancelled now, its task has not run yet
    assert lines.stop_waiting() == 1
    await asyncio.sleep(0)

    assert cancelled.cancelled()
    with pytest.raises(CallsStoppedError):
        await dropped
    assert (lines.active, lines.queued) == (1, 0)
