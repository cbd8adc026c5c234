"""The call budget over real HTTP to the simulator.

A call over the hourly or the daily budget is refused on every path (place_call,
call_until_answered, a contact's Call button and notify entity) without a request;
what counts (a call that reached the provider) and what does not; the sliding hour
and local midnight; the counts across a reload, a restart and a removal; the repair
issue; a flood of distinct calls from a script.

Where time passes, the clock is frozen (freezegun): the simulator then rings for 0 s,
since no real sleep ends while the loop's clock stands still.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.spectronics_voip.const import (
    CONF_ALLOWED_NUMBERS,
    CONF_COOLDOWN,
    CONF_MAX_CALLS_PER_DAY,
    CONF_MAX_CALLS_PER_HOUR,
    CONF_MAX_CONCURRENT_CALLS,
    DOMAIN,
    EVENT_CALL_RESULT,
    SERVICE_CALL_UNTIL_ANSWERED,
)
from custom_components.spectronics_voip.dialer import CallFailedError
from homeassistant.const import ATTR_ENTITY_ID, EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import (
    DAD,
    DAD_NOTIFY,
    LAST_CALL,
    LAST_HOUR,
    MUM,
    REJECTS,
    TIMES_OUT,
    TODAY,
    TRANSLATIONS,
    call_result,
    make_entry,
    pass_time,
    place_call,
    set_up_entry,
    set_up_mum_and_dad,
    translated,
    until,
)
from .simulator import Fault, Simulator

# 04:00 in US/Pacific, the tests' time zone: local midnight is 08:00 UTC.
NOON_UTC = "2025-03-01 12:00:00"
# Provider replies to a call that reached it, and failed.
FAILURES: dict[str, str | Fault] = {
    "provider error": Fault(body=b"ERR:Account suspended"),
    "http 500": "http500",
    "reply cut off": "reset",
    "dropped": "drop",
}
HOUR = {CONF_MAX_CALLS_PER_HOUR: 2, CONF_MAX_CALLS_PER_DAY: 0}
DAY = {CONF_MAX_CALLS_PER_HOUR: 0, CONF_MAX_CALLS_PER_DAY: 2}


async def _move_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime
) -> None:
    """Move the frozen clock forward to `when` and run what was due."""
    freezer.move_to(when)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def _counts(hass: HomeAssistant) -> tuple[str, str]:
    """Return the counters' states: calls in the last hour, calls today."""
    hour, today = hass.states.get(LAST_HOUR), hass.states.get(TODAY)
    assert hour is not None
    assert today is not None
    return hour.state, today.state


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    """Press a button."""
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def _notify(hass: HomeAssistant, message: str = "Smoke alarm") -> None:
    """Send a message to Dad's notify entity."""
    await hass.services.async_call(
        "notify",
        "send_message",
        {ATTR_ENTITY_ID: DAD_NOTIFY, "message": message},
        blocking=True,
    )


async def _escalate(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, Any]:
    """Run call_until_answered and return its response."""
    response = await hass.services.async_call(
        DOMAIN, SERVICE_CALL_UNTIL_ANSWERED, data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def _call_by(hass: HomeAssistant, path: str) -> ServiceResponse:
    """Place one call by `path`: place_call, Mum's button or Dad's notify entity."""
    if path == "place_call":
        return await place_call(hass, {"destination": "2009"})
    if path == "button":
        await _press(hass, MUM)
        return None
    await _notify(hass)
    return None


def _over_budget(period: str, limit: int, frees: str) -> str:
    """Return the message of a call the budget refused."""
    return (
        f"not sent: this account's budget of {limit} calls"
        f" {'an hour' if period == 'hour' else 'a day'} is used up;"
        f" the next call may go at {frees}"
    )


def _assert_over_budget(
    err: HomeAssistantError, period: str, limit: int, frees: str
) -> None:
    """Assert the translated error of a call over the budget."""
    key = "call_over_hourly_budget" if period == "hour" else "call_over_daily_budget"
    assert isinstance(err, CallFailedError)
    assert not isinstance(err, ServiceValidationError)
    assert err.translation_domain == DOMAIN
    assert err.translation_key == key
    assert err.translation_placeholders == {
        "message": _over_budget(period, limit, frees),
        "limit": str(limit),
        "time": frees,
    }
    assert str(err) == translated(key, err.translation_placeholders)


def _issue(hass: HomeAssistant, period: str, entry: MockConfigEntry) -> ir.IssueEntry:
    """Return the repair issue of a used-up budget; assert it is raised."""
    kind = "hourly" if period == "hour" else "daily"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"{kind}_budget_used_up_{entry.entry_id}"
    )
    assert issue is not None
    return issue


def _budget_issues(hass: HomeAssistant) -> list[str]:
    """Return the ids of the budget repair issues raised."""
    return [
        issue_id
        for domain, issue_id in ir.async_get(hass).issues
        if domain == DOMAIN and "_budget_used_up_" in issue_id
    ]


def _stored(hass_storage: dict[str, Any], entry: MockConfigEntry) -> Any:
    """Return the account's stored call counts, None if none are stored."""
    stored = hass_storage.get(f"{DOMAIN}.{entry.entry_id}")
    return None if stored is None else stored["data"]


def _store(
    hass_storage: dict[str, Any], entry: MockConfigEntry, sent: list[float]
) -> None:
    """Store call counts for the account, as a restart finds them."""
    key = f"{DOMAIN}.{entry.entry_id}"
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {"sent": sent},
    }


def _ts(when: str) -> float:
    """Return a UTC time as a timestamp."""
    return datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp()


# ---------------------------------------------------------------------------
# A call over the budget: not sent, on every path
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["place_call", "button", "notify"])
@pytest.mark.parametrize(
    ("period", "options", "frees"),
    [
        ("hour", HOUR, "05:00:00 on 2025-03-01"),
        ("day", DAY, "00:00:00 on 2025-03-02"),
    ],
    ids=["hour", "day"],
)
@pytest.mark.freeze_time(NOON_UTC)
async def test_a_call_over_the_budget_is_not_sent(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    *,
    path: str,
    period: str,
    options: dict[str, int],
    frees: str,
) -> None:
    """It raises the translated error, fires the failure event, shows as failed."""
    await set_up_mum_and_dad(hass, simulator, **options)
    await place_call(hass, {"destination": "2001"})
    await pass_time(hass, freezer, timedelta(minutes=10))
    await place_call(hass, {"destination": "2002"})
    sent = len(simulator.requests)
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    with pytest.raises(HomeAssistantError) as exc_info:
        await _call_by(hass, path)

    assert len(simulator.requests) == sent
    _assert_over_budget(exc_info.value, period, 2, frees)
    await hass.async_block_till_done()
    [event] = events
    assert event.data["success"] is False
    assert event.data["suppressed"] is False
    assert event.data["error"] == "budget"
    assert event.data["message"] == _over_budget(period, 2, frees)
    assert call_result(event) == exc_info.value.result.as_dict()  # type: ignore[attr-defined]
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "failed"
    assert state.attributes["error"] == "budget"
    assert _counts(hass) == ("2", "2")


@pytest.mark.parametrize(
    ("period", "options", "frees"),
    [
        ("hour", {CONF_MAX_CALLS_PER_HOUR: 3, CONF_MAX_CALLS_PER_DAY: 0}, "05:00:00"),
        ("day", {CONF_MAX_CALLS_PER_HOUR: 0, CONF_MAX_CALLS_PER_DAY: 3}, "00:00:00"),
    ],
    ids=["hour", "day"],
)
@pytest.mark.freeze_time(NOON_UTC)
async def test_an_escalation_stops_at_the_attempt_over_the_budget(
    hass: HomeAssistant,
    simulator: Simulator,
    period: str,
    options: dict[str, int],
    frees: str,
) -> None:
    """Its response says "budget" and lists the refused attempt; no round goes on."""
    entry = await set_up_mum_and_dad(hass, simulator, **options)
    simulator.ring_time = 0
    events = async_capture_events(hass, EVENT_CALL_RESULT)

    response = await _escalate(
        hass, {"destinations": [REJECTS, TIMES_OUT], "rounds": 3}
    )

    # Attempts 1 to 3 reached the provider and failed (rejected, rang out): they
    # count. Attempt 4 is refused; 5 and 6 are never tried.
    assert simulator.rung_first == [REJECTS, TIMES_OUT, REJECTS]
    assert response["success"] is False
    assert response["answered_by"] is None
    assert response["stopped_by"] == "budget"
    attempts = response["attempts"]
    assert [attempt["source"] for attempt in attempts] == [
        REJECTS,
        TIMES_OUT,
        REJECTS,
        TIMES_OUT,
    ]
    assert [attempt["error"] for attempt in attempts] == ["api"] * 3 + ["budget"]
    date = "2025-03-01" if period == "hour" else "2025-03-02"
    assert attempts[3]["message"] == _over_budget(period, 3, f"{frees} on {date}")
    assert attempts[3]["config_entry_id"] == entry.entry_id
    await hass.async_block_till_done()
    assert [call_result(event) for event in events] == attempts
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "failed"
    assert _counts(hass) == ("3", "3")


@pytest.mark.freeze_time(NOON_UTC)
async def test_an_escalation_refused_at_its_first_attempt(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A contact escalation over the budget rings nobody and says why."""
    await set_up_mum_and_dad(hass, simulator, **HOUR)
    await place_call(hass, {"destination": "2001"})
    await place_call(hass, {"destination": "2002"})
    sent = len(simulator.requests)

    response = await _escalate(hass, {"contacts": [DAD]})

    assert len(simulator.requests) == sent
    assert response["stopped_by"] == "budget"
    [attempt] = response["attempts"]
    assert attempt["contact"] == "Dad"
    assert attempt["error"] == "budget"
    assert attempt["message"] == _over_budget("hour", 2, "05:00:00 on 2025-03-01")


# ---------------------------------------------------------------------------
# What counts
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    ["rejected", "provider error", "http 500", "reply cut off", "dropped", "timeout"],
)
async def test_a_failed_call_that_reached_the_provider_counts(
    hass: HomeAssistant, simulator: Simulator, failure: str
) -> None:
    """It may have rung: it counts, and the next call is over a budget of one."""
    entry = await set_up_mum_and_dad(hass, simulator, **{CONF_MAX_CALLS_PER_HOUR: 1})
    simulator.ring_time = 0
    data: dict[str, Any] = {"destination": "2001"}
    if failure == "rejected":
        data = {"source": "2001486", "destination": "2000", "wait": True}
    elif failure == "timeout":
        entry.runtime_data.client.request_timeout = 0.05
        simulator.set_fault(Fault(delay=0.5, body=b"OK:Call request sent"))
    else:
        simulator.set_fault(FAILURES[failure])

    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, data)

    assert exc_info.value.translation_key != "call_over_hourly_budget"
    assert len(simulator.requests) == 2  # the credentials check, the call
    assert _counts(hass) == ("1", "1")
    simulator.set_fault(None)
    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2002"})
    assert exc_info.value.translation_key == "call_over_hourly_budget"
    assert len(simulator.requests) == 2


async def test_a_call_the_cooldown_suppresses_does_not_count(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """An identical call within the cooldown is suppressed, not refused, not counted."""
    await set_up_mum_and_dad(
        hass, simulator, **{CONF_COOLDOWN: 30, CONF_MAX_CALLS_PER_HOUR: 1}
    )

    await place_call(hass, {"destination": "2001"})
    again = await place_call(hass, {"destination": "2001"}, return_response=True)

    assert again is not None
    assert again["suppressed"] is True
    assert again["success"] is True
    assert len(simulator.calls) == 1
    assert _counts(hass) == ("1", "1")


async def test_calls_refused_before_sending_do_not_count(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A number not allowed, or not a number, sends nothing and counts nothing."""
    await set_up_mum_and_dad(
        hass,
        simulator,
        **{CONF_MAX_CALLS_PER_HOUR: 1, CONF_ALLOWED_NUMBERS: ["2001", REJECTS]},
    )

    for data in ({"destination": "2002"}, {"destination": "not a number"}):
        with pytest.raises(ServiceValidationError):
            await place_call(hass, data)
    with pytest.raises(ServiceValidationError):
        await _escalate(hass, {"destinations": [TIMES_OUT]})
    with pytest.raises(ServiceValidationError):
        await _escalate(hass, {"destinations": ["not a number"]})
    assert _counts(hass) == ("0", "0")

    await place_call(hass, {"destination": "2001"})
    assert [call["destination"] for call in simulator.calls] == ["2001"]
    assert _counts(hass) == ("1", "1")


async def test_a_call_that_never_connected_does_not_count(
    hass: HomeAssistant, simulator: Simulator, closed_url: str
) -> None:
    """No connection, tried three times: nothing was sent, nothing counts."""
    entry = await set_up_mum_and_dad(hass, simulator, **{CONF_MAX_CALLS_PER_HOUR: 1})
    client = entry.runtime_data.client
    client.url = closed_url

    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2001"})

    assert exc_info.value.translation_key == "call_failed_connection"
    assert _counts(hass) == ("0", "0")
    client.url = simulator.url
    await place_call(hass, {"destination": "2002"})
    assert [call["destination"] for call in simulator.calls] == ["2002"]
    assert _counts(hass) == ("1", "1")


async def test_a_call_cancelled_while_waiting_for_a_line_does_not_count(
    hass: HomeAssistant, simulator: Simulator, hass_storage: dict[str, Any]
) -> None:
    """Unloading cancels a queued call (never sent) and the one ringing (counted)."""
    entry = await set_up_mum_and_dad(hass, simulator, **{CONF_MAX_CONCURRENT_CALLS: 1})
    simulator.ring_time = 30
    dialer = entry.runtime_data
    ringing = hass.async_create_task(
        place_call(hass, {"destination": "2001", "wait": True})
    )
    queued = hass.async_create_task(place_call(hass, {"destination": "2002"}))
    await until(lambda: dialer.lines.queued == 1 and simulator.in_flight == 1)
    # Reserved against the budget; in the counts once each one's outcome is known.
    assert _counts(hass) == ("0", "0")
    assert len(dialer.budget.dump()) == 2

    assert await hass.config_entries.async_unload(entry.entry_id)
    results = await asyncio.gather(ringing, queued, return_exceptions=True)

    assert [getattr(result, "translation_key", None) for result in results] == [
        "call_failed_cancelled"
    ] * 2
    assert [call["destination"] for call in simulator.calls] == ["2001"]
    assert dialer.budget.counts(dt_util.utcnow()) == (1, 1)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert len(_stored(hass_storage, entry)["sent"]) == 1


async def test_calls_of_every_path_add_up(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A place_call, a press, a notification and an attempt use one budget of four."""
    await set_up_mum_and_dad(hass, simulator, **{CONF_MAX_CALLS_PER_HOUR: 4})
    simulator.ring_time = 0

    await place_call(hass, {"destination": "2001"})
    await _press(hass, MUM)
    await _notify(hass)
    response = await _escalate(hass, {"contacts": [DAD]})

    assert response["answered_by"] == "Dad"
    assert len(simulator.calls) == 4
    assert _counts(hass) == ("4", "4")
    for path in ("place_call", "button", "notify"):
        with pytest.raises(HomeAssistantError) as exc_info:
            await _call_by(hass, path)
        assert exc_info.value.translation_key == "call_over_hourly_budget"
    assert (await _escalate(hass, {"contacts": [DAD]}))["stopped_by"] == "budget"
    assert len(simulator.calls) == 4


# ---------------------------------------------------------------------------
# The sliding hour, local midnight, budgets turned off
# ---------------------------------------------------------------------------


@pytest.mark.freeze_time(NOON_UTC)
async def test_the_hourly_budget_slides(
    hass: HomeAssistant, simulator: Simulator, freezer: FrozenDateTimeFactory
) -> None:
    """Each call frees its place an hour after it was sent; the counter follows."""
    await set_up_mum_and_dad(hass, simulator, **HOUR)
    await place_call(hass, {"destination": "2001"})  # 04:00
    await pass_time(hass, freezer, timedelta(minutes=30))
    await place_call(hass, {"destination": "2002"})  # 04:30
    await pass_time(hass, freezer, timedelta(minutes=15))
    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2003"})
    _assert_over_budget(exc_info.value, "hour", 2, "05:00:00 on 2025-03-01")
    assert _counts(hass) == ("2", "2")

    # 05:00:01: the 04:00 call left the hour, without any call to notice it.
    await pass_time(hass, freezer, timedelta(minutes=15, seconds=1))
    assert _counts(hass) == ("1", "2")
    await place_call(hass, {"destination": "2004"})
    assert _counts(hass) == ("2", "3")
    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2005"})
    _assert_over_budget(exc_info.value, "hour", 2, "05:30:00 on 2025-03-01")

    await pass_time(hass, freezer, timedelta(minutes=30))  # 05:30:01
    assert _counts(hass) == ("1", "3")
    await pass_time(hass, freezer, timedelta(minutes=30))  # 06:00:01
    assert _counts(hass) == ("0", "3")
    assert [call["destination"] for call in simulator.calls] == ["2001", "2002", "2004"]


def _starting_at(day: str, start: str, midnight: str, name: str) -> Any:
    """Return a case of `day`, the clock frozen at `start` (UTC)."""
    return pytest.param(
        day, start, midnight, marks=pytest.mark.freeze_time(start), id=name
    )


@pytest.mark.parametrize(
    ("day", "start", "midnight"),
    [
        _starting_at("2025-03-01", "2025-03-02 07:40:00", "2025-03-02 08:00:00", "24h"),
        _starting_at(
            "2025-03-09", "2025-03-10 06:40:00", "2025-03-10 07:00:00", "23h-dst-starts"
        ),
        _starting_at(
            "2025-11-02", "2025-11-03 07:40:00", "2025-11-03 08:00:00", "25h-dst-ends"
        ),
    ],
)
async def test_the_daily_budget_resets_at_local_midnight(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    *,
    day: str,
    start: str,
    midnight: str,
) -> None:
    """Calls at 23:40 and 23:50 use up a daily budget of 2 until local midnight."""
    assert dt_util.as_local(dt_util.utcnow()).strftime("%Y-%m-%d %H:%M") == (
        f"{day} 23:40"
    )
    assert dt_util.utcnow().timestamp() == _ts(start)
    await set_up_mum_and_dad(hass, simulator, **DAY)
    await place_call(hass, {"destination": "2001"})
    await pass_time(hass, freezer, timedelta(minutes=10))
    await place_call(hass, {"destination": "2002"})
    next_day = dt_util.as_local(datetime.fromisoformat(midnight).replace(tzinfo=UTC))
    assert next_day.strftime("%H:%M:%S") == "00:00:00"
    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2003"})
    _assert_over_budget(exc_info.value, "day", 2, f"00:00:00 on {next_day:%Y-%m-%d}")

    await pass_time(hass, freezer, timedelta(minutes=9, seconds=59))  # 23:59:59
    assert _counts(hass) == ("2", "2")
    await pass_time(hass, freezer, timedelta(seconds=2))  # 00:00:01
    # A new day; the hour still holds both calls.
    assert _counts(hass) == ("2", "0")
    await place_call(hass, {"destination": "2004"})
    assert _counts(hass) == ("3", "1")
    assert len(simulator.calls) == 3


async def test_zero_turns_both_budgets_off(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """With 0 and 0, more calls than the default hourly budget of 60 all go."""
    entry = await set_up_mum_and_dad(
        hass, simulator, **{CONF_MAX_CALLS_PER_HOUR: 0, CONF_MAX_CALLS_PER_DAY: 0}
    )

    for number in range(61):
        await place_call(hass, {"destination": f"{2000 + number}"})

    assert len(simulator.calls) == 61
    assert _counts(hass) == ("61", "61")
    assert _budget_issues(hass) == []
    assert entry.runtime_data.budget.used_up(dt_util.utcnow()) is None


@pytest.mark.parametrize(
    ("options", "refused_by"),
    [
        ({CONF_MAX_CALLS_PER_HOUR: 0, CONF_MAX_CALLS_PER_DAY: 3}, "day"),
        ({CONF_MAX_CALLS_PER_HOUR: 3, CONF_MAX_CALLS_PER_DAY: 0}, "hour"),
        ({CONF_MAX_CALLS_PER_HOUR: 3, CONF_MAX_CALLS_PER_DAY: 3}, "day"),
    ],
    ids=["hour-off", "day-off", "both"],
)
async def test_each_budget_on_its_own(
    hass: HomeAssistant,
    simulator: Simulator,
    options: dict[str, int],
    refused_by: str,
) -> None:
    """The budget left on refuses the fourth call; when both are used up, the day's."""
    await set_up_mum_and_dad(hass, simulator, **options)

    for number in range(3):
        await place_call(hass, {"destination": f"{2000 + number}"})
    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2009"})

    assert exc_info.value.translation_key == (
        "call_over_hourly_budget" if refused_by == "hour" else "call_over_daily_budget"
    )
    assert len(simulator.calls) == 3


async def test_the_default_budgets(hass: HomeAssistant, simulator: Simulator) -> None:
    """Without options: 60 calls an hour, 200 a day."""
    entry = await set_up_entry(hass, make_entry(simulator.url))

    assert entry.runtime_data.budget.limits == (60, 200)


# ---------------------------------------------------------------------------
# The counts across a reload, a restart and a removal
# ---------------------------------------------------------------------------


@pytest.mark.freeze_time(NOON_UTC)
async def test_the_counts_survive_a_reload(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Reloaded, the account still counts both calls and refuses a third."""
    entry = await set_up_mum_and_dad(hass, simulator, **HOUR)
    await place_call(hass, {"destination": "2001"})
    await pass_time(hass, freezer, timedelta(minutes=10))
    await place_call(hass, {"destination": "2002"})
    await pass_time(hass, freezer, timedelta(seconds=2))  # saved 1 s after the change
    assert _stored(hass_storage, entry) == {
        "sent": [_ts("2025-03-01 12:00:00"), _ts("2025-03-01 12:10:00")]
    }

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert _counts(hass) == ("2", "2")
    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2003"})
    _assert_over_budget(exc_info.value, "hour", 2, "05:00:00 on 2025-03-01")
    assert len(simulator.calls) == 2


# The counts are saved 1 s after a change; an unload saves them at once and cancels
# that delayed save, so a reload right after a call (a reload loop, say) does not
# forget the call and reset the budget.
@pytest.mark.freeze_time(NOON_UTC)
async def test_the_counts_survive_a_reload_right_after_a_call(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """A reload within a second of a call still counts it."""
    entry = await set_up_mum_and_dad(hass, simulator, **HOUR)
    await place_call(hass, {"destination": "2001"})

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await pass_time(hass, freezer, timedelta(seconds=2))

    assert _stored(hass_storage, entry) == {"sent": [_ts("2025-03-01 12:00:00")]}
    assert _counts(hass) == ("1", "1")


@pytest.mark.freeze_time(NOON_UTC)
async def test_the_counts_survive_a_restart_of_home_assistant(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Stored counts are read at start: the hour's and today's calls, no older ones."""
    entry = make_entry(
        simulator.url,
        options={CONF_MAX_CALLS_PER_HOUR: 2, CONF_MAX_CALLS_PER_DAY: 4},
    )
    # 23:00 yesterday, 01:00 today, 03:30 and 03:50 (local; it is 04:00 now).
    sent = [
        _ts("2025-03-01 07:00:00"),
        _ts("2025-03-01 09:00:00"),
        _ts("2025-03-01 11:30:00"),
        _ts("2025-03-01 11:50:00"),
    ]
    _store(hass_storage, entry, sent)

    await set_up_entry(hass, entry)

    assert _counts(hass) == ("2", "3")
    assert _issue(hass, "hour", entry).translation_placeholders == {
        "title": "Extension 1234567",
        "count": "2",
        "limit": "2",
        "time": "04:30:00 on 2025-03-01",
    }
    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2001"})
    _assert_over_budget(exc_info.value, "hour", 2, "04:30:00 on 2025-03-01")
    assert simulator.calls == []

    await pass_time(hass, freezer, timedelta(minutes=30))
    assert _counts(hass) == ("1", "3")
    await place_call(hass, {"destination": "2002"})
    with pytest.raises(HomeAssistantError) as exc_info:
        await place_call(hass, {"destination": "2003"})
    _assert_over_budget(exc_info.value, "day", 4, "00:00:00 on 2025-03-02")
    await pass_time(hass, freezer, timedelta(seconds=2))
    # Yesterday's call is no longer kept.
    assert _stored(hass_storage, entry) == {
        "sent": [*sent[1:], _ts("2025-03-01 12:30:00")]
    }


@pytest.mark.freeze_time(NOON_UTC)
async def test_a_used_up_budget_that_freed_during_a_restart(
    hass: HomeAssistant, simulator: Simulator, hass_storage: dict[str, Any]
) -> None:
    """Its repair issue, raised before the restart, goes at start."""
    entry = make_entry(simulator.url, options=HOUR)
    _store(
        hass_storage, entry, [_ts("2025-03-01 10:00:00"), _ts("2025-03-01 10:30:00")]
    )
    issue_id = f"hourly_budget_used_up_{entry.entry_id}"
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="hourly_budget_used_up",
    )

    await set_up_entry(hass, entry)

    assert _counts(hass) == ("0", "2")
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.freeze_time(NOON_UTC)
async def test_the_counts_are_saved_on_the_final_write(
    hass: HomeAssistant, simulator: Simulator, hass_storage: dict[str, Any]
) -> None:
    """Home Assistant stopping within the second after a call saves its count."""
    entry = await set_up_mum_and_dad(hass, simulator)
    await place_call(hass, {"destination": "2001"})
    assert _stored(hass_storage, entry) is None

    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()

    assert _stored(hass_storage, entry) == {"sent": [_ts("2025-03-01 12:00:00")]}


@pytest.mark.freeze_time(NOON_UTC)
async def test_a_removed_entry_removes_its_stored_counts(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """The counts are stored under the entry's id, and removed with it."""
    entry = await set_up_mum_and_dad(hass, simulator)
    await place_call(hass, {"destination": "2001"})
    await pass_time(hass, freezer, timedelta(seconds=2))
    assert _stored(hass_storage, entry) == {"sent": [_ts("2025-03-01 12:00:00")]}

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    assert _stored(hass_storage, entry) is None


# Removing the entry removes its stored counts; the unloaded dialer saves nothing
# after that (no delayed save, nothing on Home Assistant's final write), so the
# counts are not written back to .storage/spectronics_voip.<entry_id>.
@pytest.mark.freeze_time(NOON_UTC)
async def test_an_entry_removed_right_after_a_call_leaves_no_counts(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Removed within a second of a call, nothing of the entry stays stored."""
    entry = await set_up_mum_and_dad(hass, simulator)
    await place_call(hass, {"destination": "2001"})

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    await pass_time(hass, freezer, timedelta(seconds=2))
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()

    assert _stored(hass_storage, entry) is None


# ---------------------------------------------------------------------------
# The repair issue of a used-up budget
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "options", "frees", "later"),
    [
        ("hour", HOUR, "05:00:00 on 2025-03-01", "2025-03-01 13:00:01"),
        ("day", DAY, "00:00:00 on 2025-03-02", "2025-03-02 08:00:01"),
    ],
    ids=["hour", "day"],
)
@pytest.mark.freeze_time(NOON_UTC)
async def test_the_repair_comes_with_a_used_up_budget_and_goes_with_time(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    *,
    period: str,
    options: dict[str, int],
    frees: str,
    later: str,
) -> None:
    """A warning names the budget, the count and when it frees; it goes by itself."""
    entry = await set_up_mum_and_dad(hass, simulator, **options)
    updates = async_capture_events(hass, ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED)
    await place_call(hass, {"destination": "2001"})
    assert _budget_issues(hass) == []
    await pass_time(hass, freezer, timedelta(minutes=10))

    await place_call(hass, {"destination": "2002"})

    issue = _issue(hass, period, entry)
    assert _budget_issues(hass) == [issue.issue_id]
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.is_fixable is False
    assert issue.is_persistent is False
    assert (
        issue.translation_key
        == f"{'hourly' if period == 'hour' else 'daily'}_budget_used_up"
    )
    assert issue.translation_placeholders == {
        "title": "Extension 1234567",
        "count": "2",
        "limit": "2",
        "time": frees,
    }
    # A refused call changes nothing.
    with pytest.raises(HomeAssistantError):
        await place_call(hass, {"destination": "2003"})
    await pass_time(hass, freezer, timedelta(minutes=1))
    assert _issue(hass, period, entry).translation_placeholders == (
        issue.translation_placeholders
    )

    await _move_to(hass, freezer, datetime.fromisoformat(later).replace(tzinfo=UTC))

    assert _budget_issues(hass) == []
    ours = [u.data["action"] for u in updates if u.data["domain"] == DOMAIN]
    assert ours == ["create", "remove"]
    await place_call(hass, {"destination": "2004"})
    assert len(simulator.calls) == 3


@pytest.mark.parametrize(
    ("period", "limit"),
    [("hour", CONF_MAX_CALLS_PER_HOUR), ("day", CONF_MAX_CALLS_PER_DAY)],
)
@pytest.mark.freeze_time(NOON_UTC)
async def test_changing_the_budget_in_the_options_updates_the_repair(
    hass: HomeAssistant,
    simulator: Simulator,
    freezer: FrozenDateTimeFactory,
    period: str,
    limit: str,
) -> None:
    """Raised or turned off, the issue goes at once; lowered below the count, it comes."""
    other = CONF_MAX_CALLS_PER_DAY if period == "hour" else CONF_MAX_CALLS_PER_HOUR
    entry = await set_up_mum_and_dad(hass, simulator, **{limit: 2, other: 0})
    await place_call(hass, {"destination": "2001"})
    await pass_time(hass, freezer, timedelta(minutes=10))
    await place_call(hass, {"destination": "2002"})
    assert _issue(hass, period, entry)

    hass.config_entries.async_update_entry(entry, options=entry.options | {limit: 3})
    await hass.async_block_till_done()
    assert _budget_issues(hass) == []
    await place_call(hass, {"destination": "2003"})
    assert _issue(hass, period, entry).translation_placeholders["limit"] == "3"  # type: ignore[index]

    hass.config_entries.async_update_entry(entry, options=entry.options | {limit: 0})
    await hass.async_block_till_done()
    assert _budget_issues(hass) == []

    hass.config_entries.async_update_entry(entry, options=entry.options | {limit: 1})
    await hass.async_block_till_done()
    # Three calls over a budget of one: it frees when the newest is out of the window.
    assert _issue(hass, period, entry).translation_placeholders == {
        "title": "Extension 1234567",
        "count": "3",
        "limit": "1",
        "time": "05:10:00 on 2025-03-01"
        if period == "hour"
        else "00:00:00 on 2025-03-02",
    }
    assert len(simulator.calls) == 3


async def test_removing_the_account_removes_its_budget_repair(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The issue goes with its account."""
    entry = await set_up_mum_and_dad(hass, simulator, **{CONF_MAX_CALLS_PER_DAY: 1})
    await place_call(hass, {"destination": "2001"})
    assert _issue(hass, "day", entry)

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    assert _budget_issues(hass) == []


@pytest.mark.parametrize("kind", ["hourly_budget_used_up", "daily_budget_used_up"])
def test_the_budget_repairs_are_translated(kind: str) -> None:
    """Each has a title and a description using exactly its four placeholders."""
    text = TRANSLATIONS["issues"][kind]
    placeholders = set(re.findall(r"{(\w+)}", text["title"] + text["description"]))
    assert placeholders == {"title", "count", "limit", "time"}


@pytest.mark.parametrize("key", ["call_over_hourly_budget", "call_over_daily_budget"])
def test_the_budget_errors_are_translated(key: str) -> None:
    """Each names the budget and when the next call may go."""
    assert set(re.findall(r"{(\w+)}", TRANSLATIONS["exceptions"][key]["message"])) == {
        "limit",
        "time",
    }


# ---------------------------------------------------------------------------
# A flood of distinct calls
# ---------------------------------------------------------------------------


async def test_a_flood_of_distinct_calls_stops_at_the_budget(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """500 calls with a templated caller name: exactly 60 reach the simulator."""
    entry = await set_up_entry(hass, make_entry(simulator.url))
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    step = {
        "action": f"{DOMAIN}.place_call",
        "continue_on_error": True,
        "data": {"destination": "2001", "cidname": "ALARM {{ repeat.index }}"},
    }
    flood = {"repeat": {"count": 500, "sequence": [step]}}
    assert await async_setup_component(
        hass, "script", {"script": {"flood": {"sequence": [flood]}}}
    )

    await hass.services.async_call("script", "flood", blocking=True)
    await hass.async_block_till_done()

    assert len(simulator.requests) == 1 + 60  # the credentials check, 60 calls
    assert [call["cidname"] for call in simulator.calls] == [
        f"ALARM {index}" for index in range(1, 61)
    ]
    assert len(events) == 500
    assert [event.data["error"] for event in events] == [None] * 60 + ["budget"] * 440
    assert [event.data["cidname"] for event in events] == [
        f"ALARM {index}" for index in range(1, 501)
    ]
    assert _counts(hass) == ("60", "60")
    assert _issue(hass, "hour", entry).translation_placeholders["count"] == "60"  # type: ignore[index]
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "failed"
    assert state.attributes["cidname"] == "ALARM 500"
