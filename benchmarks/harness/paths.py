"""The ways to place the same call, and the order in which they take turns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterator
from enum import StrEnum
from typing import Any

from benchmarks.harness.accounts import Accounts
from benchmarks.harness.config import (
    CID_FORM,
    DESTINATION,
    DOMAIN,
    FORM,
    FORM_BODY,
    FORM_CONTENT_TYPE,
    MESSAGE,
    RAW_HEADERS,
    REST_NAME,
    SERVICE,
)
from benchmarks.harness.simulator import SimulatorProcess
from benchmarks.harness.timing import williams
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from tests.simulator import EXTENSION


class CallPath(StrEnum):
    """One way to place the call; the value is its key in the figures."""

    RAW = "raw"
    REST = "rest"
    REST_REPLY = "rest_reply"
    PLACE = "place"
    PLACE_RAILS = "place_rails"
    BUTTON = "button"
    PLACE_CID = "place_cid"
    NOTIFY = "notify"

    @property
    def label(self) -> str:
        """Return how the tables name the path."""
        return _LABELS[self]


_LABELS = {
    CallPath.RAW: "1. raw aiohttp POST (floor)",
    CallPath.REST: "2. rest_command",
    CallPath.REST_REPLY: "2b. rest_command, return_response (reads the reply)",
    CallPath.PLACE: "3. spectronics_voip.place_call",
    CallPath.PLACE_RAILS: (
        "3b. place_call, default rails (30 s cooldown, a new number each, budget on)"
    ),
    CallPath.BUTTON: "4. button.press, a contact's Call button",
    CallPath.PLACE_CID: f'5. place_call, cidname "{MESSAGE}"',
    CallPath.NOTIFY: f'5b. notify.send_message, message "{MESSAGE}"',
}
# The form each path sends; place_rails sends FORM to a number of its own.
_FORMS = dict.fromkeys(CallPath, FORM) | {
    CallPath.PLACE_CID: CID_FORM,
    CallPath.NOTIFY: CID_FORM,
}
_PATHS = tuple(CallPath)
# Each path in each position of a turn, and after each other path, equally often.
ORDERS = tuple(tuple(_PATHS[index] for index in row) for row in williams(len(_PATHS)))

type Call = Callable[[], Awaitable[bool]]


def order(turn: int) -> tuple[CallPath, ...]:
    """Return the paths' order for turn `turn`."""
    return ORDERS[turn % len(ORDERS)]


def _rails_numbers() -> Iterator[str]:
    """Yield numbers never rung before in this run, so the cooldown holds none back."""
    index = 0
    while True:
        index += 1
        yield f"+4420{index:08d}"


def make_calls(
    hass: HomeAssistant, url: str, accounts: Accounts
) -> dict[CallPath, Call]:
    """Return each path's call: it places the call, and says whether it succeeded."""
    session = async_get_clientsession(hass)
    async_call = hass.services.async_call
    body = FORM_BODY.encode()
    bench_id, rails_id = accounts.bench.entry_id, accounts.rails.entry_id
    # Several accounts are loaded, so every place_call names its own.
    place_data = {
        "config_entry_id": bench_id,
        "source": DESTINATION,
        "destination": EXTENSION,
    }
    place_cid_data = place_data | {"cidname": MESSAGE}
    button_data = {"entity_id": accounts.button}
    notify_data = {"entity_id": accounts.notify, "message": MESSAGE}
    numbers = _rails_numbers()

    async def raw() -> bool:
        async with session.post(url, data=body, headers=RAW_HEADERS) as response:
            reply = await response.read()
        return reply.startswith(b"OK:")

    async def rest() -> bool:
        await async_call("rest_command", REST_NAME, blocking=True)
        return True

    async def rest_reply() -> bool:
        response = await async_call(
            "rest_command", REST_NAME, blocking=True, return_response=True
        )
        return response is not None and str(response["content"]).startswith("OK:")

    async def place() -> bool:
        await async_call(DOMAIN, SERVICE, place_data, blocking=True)
        return True

    async def place_rails() -> bool:
        data = {
            "config_entry_id": rails_id,
            "source": next(numbers),
            "destination": EXTENSION,
        }
        await async_call(DOMAIN, SERVICE, data, blocking=True)
        return True

    async def button() -> bool:
        await async_call("button", "press", button_data, blocking=True)
        return True

    async def place_cid() -> bool:
        await async_call(DOMAIN, SERVICE, place_cid_data, blocking=True)
        return True

    async def notify() -> bool:
        await async_call("notify", "send_message", notify_data, blocking=True)
        return True

    return {
        CallPath.RAW: raw,
        CallPath.REST: rest,
        CallPath.REST_REPLY: rest_reply,
        CallPath.PLACE: place,
        CallPath.PLACE_RAILS: place_rails,
        CallPath.BUTTON: button,
        CallPath.PLACE_CID: place_cid,
        CallPath.NOTIFY: notify,
    }


async def check_same_form(
    hass: HomeAssistant, sim: SimulatorProcess, calls: dict[CallPath, Call]
) -> None:
    """Check that each path succeeds and sends the form it should, field for field.

    All send FORM, except place_call with a cidname and notify, which both send
    CID_FORM, and place_call on the account with the default rails, which sends FORM
    to a number of its own each time.
    """
    response = await hass.services.async_call(
        "rest_command", REST_NAME, blocking=True, return_response=True
    )
    assert response is not None
    if not str(response["content"]).startswith("OK:"):
        raise RuntimeError(f"rest_command was refused: {response}")
    last = {}
    for path, call in calls.items():
        if not await call():
            raise RuntimeError(f"{path} was refused")
        last[path] = await sim.last()
    forms = {path: request.form() for path, request in last.items()}
    rails = forms[CallPath.PLACE_RAILS]
    if rails.get("source") == DESTINATION:
        raise RuntimeError(f"place_rails did not use a number of its own: {rails}")
    forms[CallPath.PLACE_RAILS] = rails | {"source": DESTINATION}
    if any(form != _FORMS[path] for path, form in forms.items()):
        raise RuntimeError(f"the paths send other forms than expected: {forms}")
    if any(request.content_type != FORM_CONTENT_TYPE for request in last.values()):
        raise RuntimeError(f"the paths send different content types: {last}")


def place_waiting(
    hass: HomeAssistant, entry_id: str, destination: str = DESTINATION
) -> Coroutine[Any, Any, ServiceResponse]:
    """Place a wait=1 call with place_call; return its response data."""
    data = {"config_entry_id": entry_id, "destination": destination, "wait": True}
    return hass.services.async_call(
        DOMAIN, SERVICE, data, blocking=True, return_response=True
    )


def answered(result: Any) -> bool:
    """Return whether a wait=1 call came back answered."""
    return (
        isinstance(result, dict)
        and result.get("success") is True
        and result.get("message") == "Call answered"
    )
