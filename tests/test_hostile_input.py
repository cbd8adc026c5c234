"""Hostile input, property-based: arbitrary Unicode in every text field of a call.

Whatever goes into `destination`, `source`, `cidname` and `extension` (control
characters, `&`, `=`, `%`, CR LF, bidirectional marks, emoji, very long strings), the
result is either a validation error before any request, or one request whose form
fields satisfy the documented patterns exactly: nothing injected, nothing crashed.
"""

from __future__ import annotations

import operator
import os
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hypothesis import HealthCheck, event, example, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.spectronics_voip.api import (
    MAX_CIDNAME_LENGTH,
    CallRequest,
    SpectronicsValidationError,
)
from custom_components.spectronics_voip.const import (
    CONF_COOLDOWN,
    DOMAIN,
    EVENT_CALL_RESULT,
    SERVICE_PLACE_CALL,
)
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .common import call_result, make_entry
from .simulator import ALL_TOKEN, EXTENSION, OTHER_EXTENSION, Simulator

# HOSTILE_INPUT_SCALE=20 runs twenty times the examples, for a deeper search.
SCALE = int(os.environ.get("HOSTILE_INPUT_SCALE", "1"))

# The documented fields, and the patterns their values must match on the wire.
NUMBER = re.compile(r"\+?[0-9*#]{1,32}")
EXTENSION_7 = re.compile(r"[0-9]{7}")
FLAG = re.compile(r"[01]")
FIELDS = {"extension", "destination", "cidname", "reverse", "source", "wait"}
SEPARATORS = str.maketrans("", "", " -.()")
REFUSALS = {
    "invalid_destination",
    "invalid_source",
    "invalid_cidname",
    "invalid_extension",
}

# Characters an attacker or a careless template would use.
NASTY = (
    "0123456789+*#"  # what a number is made of
    " -.()"  # separators the client drops
    "&=%;?/\\'\"<>"  # form and URL syntax, quoting
    "\r\n\t\x00\x0b\x1b\x7f\x85"  # control characters, CR LF
    "\u200b\u200e\u200f\u202a\u202e\u2066\u2069\ufeff"  # zero width, bidi marks
    "\u2028\u2029\u00a0\u3000"  # line and paragraph separators, odd spaces
    "\u0660\u0661\u06f1\u0966\uff11\U0001d7ce"  # digits of other scripts
    "\U0001f600\U0001f4de\u00e9e\u0301"  # emoji, accents
)
INJECTIONS = [
    "123&auth=stolen",
    "123&destination=999",
    "123\r\nX-Injected: 1",
    "123%26wait%3D1",
    "1234567&extension=7654321",
    "=",
    "&",
    "%",
    "%00",
    "\r\n\r\nGET / HTTP/1.1",
    "+44 20 7946 0000\u202e",
    "Front door\u200f",
]

hostile_text = st.one_of(
    st.text(),  # any Unicode but surrogates
    st.text(st.characters(codec=None, exclude_categories=())),  # surrogates too
    st.text(st.sampled_from(NASTY), max_size=60),  # dense in nasty characters
    st.sampled_from(INJECTIONS),
    st.builds(operator.add, st.sampled_from(INJECTIONS), st.text(max_size=10)),
    st.builds(  # very long
        operator.mul,
        st.sampled_from(["1", "&", "\u200f", "\U0001f4de"]),
        st.integers(33, 100_000),
    ),
)
optional_hostile = st.none() | st.just("") | hostile_text
# Numbers as people type them, so that many examples pass validation and are sent.
plausible_number = st.from_regex(
    r"\+?[0-9*#]{1,4}([ .()-]?[0-9*#]{1,4}){0,4}", fullmatch=True
)
# A caller name that may pass: printable, with form syntax, marks and emoji.
plausible_cidname = st.text(
    st.sampled_from("AZaz09 &=%;:'\"\u00e9\U0001f6aa"), max_size=45
)


def _mostly(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Draw from `plausible` three times in four, else hostile text.

    Most hostile input is refused at once; plausible values get calls sent, so
    that what reaches the wire is checked often.
    """
    return st.integers(0, 3).flatmap(lambda n: plausible if n else hostile_text)


def assert_documented(form: dict[str, str]) -> None:
    """Assert the form has only documented fields, each matching its pattern."""
    assert set(form) <= FIELDS | {"auth"}
    assert NUMBER.fullmatch(form["destination"])
    if "source" in form:
        assert NUMBER.fullmatch(form["source"])
    assert EXTENSION_7.fullmatch(form["extension"])
    if "cidname" in form:
        assert 0 < len(form["cidname"]) <= MAX_CIDNAME_LENGTH
        assert form["cidname"].isprintable()
    assert FLAG.fullmatch(form["reverse"])
    assert FLAG.fullmatch(form["wait"])
    # Encoded as the client sends it, the form decodes to the very same fields.
    encoded = urlencode(form)
    assert "\r" not in encoded
    assert "\n" not in encoded
    assert parse_qsl(encoded, keep_blank_values=True, strict_parsing=True) == list(
        form.items()
    )


@settings(max_examples=200 * SCALE, deadline=None)
@given(
    destination=_mostly(plausible_number),
    source=optional_hostile,
    cidname=optional_hostile,
    extension=optional_hostile,
    reverse=st.booleans(),
    wait=st.booleans(),
)
@example(
    destination="123&auth=stolen",
    source=None,
    cidname=None,
    extension=None,
    reverse=False,
    wait=False,
)
@example(
    destination="+44 (0)20-7946.0000",
    source="07700 900123",
    cidname="Front door & garden = 100% \U0001f6aa",
    extension=EXTENSION,
    reverse=True,
    wait=True,
)
def test_call_request_is_documented_or_refused(
    *,
    destination: str,
    source: str | None,
    cidname: str | None,
    extension: str | None,
    reverse: bool,
    wait: bool,
) -> None:
    """A CallRequest either refuses the input or yields only documented fields."""
    try:
        form = CallRequest(
            destination=destination,
            source=source,
            cidname=cidname,
            extension=extension or EXTENSION,
            reverse=reverse,
            wait=wait,
        ).form()
    except SpectronicsValidationError as err:
        event(f"refused: {err.field}")
        return

    event("accepted")
    assert_documented(form)
    # Accepted input is sent as given, separators aside; nothing else changes.
    assert form["destination"] == destination.translate(SEPARATORS)
    assert form.get("source") == (source.translate(SEPARATORS) if source else None)
    assert form.get("cidname") == (cidname or None)
    assert form["extension"] == (extension or EXTENSION)


# Through the action, one call per example against the simulator. The examples share
# the test's Home Assistant, entry and simulator (hence the suppressed health check):
# that is safe because, with the duplicate-call cooldown off (the fixture below), a
# call leaves nothing behind that the next one depends on.
# Each example compares only the requests and events it caused, the entry's token is
# accepted (no re-authentication starts), and every call ends before the next begins.
@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """Return the account with the cooldown off, so that examples may repeat a call."""
    return make_entry(simulator.url, options={CONF_COOLDOWN: 0})


@settings(
    max_examples=50 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    destination=_mostly(plausible_number),
    source=_mostly(st.none() | plausible_number),
    cidname=_mostly(st.none() | plausible_cidname),
    extension=_mostly(st.sampled_from([None, EXTENSION, OTHER_EXTENSION])),
    reverse=st.booleans(),
    wait=st.booleans(),
)
@example(
    destination="123&auth=stolen",
    source="456\r\nX-Injected: 1",
    cidname="A&B=C%20D \u200f\U0001f4de",
    extension=None,
    reverse=False,
    wait=False,
)
async def test_action_sends_documented_fields_or_refuses(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    *,
    destination: str,
    source: str | None,
    cidname: str | None,
    extension: str | None,
    reverse: bool,
    wait: bool,
) -> None:
    """The action refuses hostile input before any request, or sends it cleanly."""
    data: dict[str, Any] = {"destination": destination, "reverse": reverse}
    data |= {"wait": wait}
    for name, value in (
        ("source", source),
        ("cidname", cidname),
        ("extension", extension),
    ):
        if value is not None:
            data[name] = value
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    before = len(simulator.requests)

    response: ServiceResponse = None
    error: HomeAssistantError | None = None
    try:
        response = await hass.services.async_call(
            DOMAIN, SERVICE_PLACE_CALL, data, blocking=True, return_response=True
        )
    except HomeAssistantError as err:
        error = err
    await hass.async_block_till_done()

    if isinstance(error, ServiceValidationError):
        # Refused before anything was sent, with a translated reason.
        assert error.translation_key in REFUSALS
        assert len(simulator.requests) == before
        assert events == []
        event(f"refused: {error.translation_key}")
        return
    if error is not None:
        # Sent, and the provider refused it (an extension not on the account).
        assert error.translation_key == "call_failed_api"
    event("sent")
    [request] = simulator.requests[before:]
    assert request.method == "POST"
    assert request.query == {}
    # What the provider parsed is exactly what the client built: no field injected.
    fields = dict(request.fields)
    assert fields.pop("auth") == ALL_TOKEN
    assert_documented(fields)
    expected = CallRequest(
        destination=destination,
        source=source,
        cidname=cidname,
        extension=extension or EXTENSION,
        reverse=reverse,
        wait=wait,
    ).form()
    assert fields == expected
    assert len(events) == 1
    if response is not None:
        assert call_result(events[0]) == response
        assert response["destination"] == fields["destination"]


@pytest.mark.parametrize("field", ["destination", "source", "cidname", "extension"])
@pytest.mark.usefixtures("init_integration")
async def test_megabyte_field_refused_before_sending(
    hass: HomeAssistant, simulator: Simulator, field: str
) -> None:
    """A 1 MiB value is refused before any request."""
    before = len(simulator.requests)
    data = {"destination": "123", field: "1" * 2**20}

    with pytest.raises(ServiceValidationError) as exc_info:
        await hass.services.async_call(DOMAIN, SERVICE_PLACE_CALL, data, blocking=True)

    assert exc_info.value.translation_key == f"invalid_{field}"
    assert len(simulator.requests) == before
