"""Tests of the provider's client over real HTTP against the simulator."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable
import dataclasses
import time
import tracemalloc
from typing import Any

import aiohttp
from hypothesis import given, strategies as st
import pytest
from yarl import URL

from custom_components.spectronics_voip.api import (
    MAX_CIDNAME_LENGTH,
    MAX_REPLY_BYTES,
    CallReply,
    CallRequest,
    SpectronicsApiError,
    SpectronicsAuthError,
    SpectronicsClient,
    SpectronicsConnectError,
    SpectronicsConnectionError,
    SpectronicsError,
    SpectronicsExtensionError,
    SpectronicsResponseError,
    SpectronicsTimeoutError,
    SpectronicsValidationError,
    fit_cidname,
    validate_cidname,
)

from .simulator import (
    ALL_TOKEN,
    EXTENSION,
    FAULTS,
    OTHER_EXTENSION,
    PATH,
    SINGLE_TOKEN,
    Answer,
    Fault,
    Simulator,
)

FORM: str = "application/x-www-form-urlencoded"
REDACTED: str = "**REDACTED**"
NOT_A_LINE: str = "reply is not an OK: or ERR: line"
NOT_UTF8: str = "reply is not UTF-8 text"
TOO_LARGE: str = "reply larger than 64 KiB"
NOT_NUMBER: str = "digits, +, * and # only"
TOO_LONG: str = "longer than 32 characters"
NOT_EXTENSION: str = "extension: not exactly 7 digits"


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    """Return a real aiohttp session, closed at teardown."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(session: aiohttp.ClientSession, simulator: Simulator) -> SpectronicsClient:
    """Return a client for extension 1234567 on the simulator."""
    return SpectronicsClient(session, ALL_TOKEN, EXTENSION, simulator.url)


@pytest.fixture
async def target(simulator: Simulator) -> AsyncGenerator[Simulator]:
    """Serve a second simulator, the would-be target of a redirect."""
    second = Simulator()
    await second.start()
    yield second
    await second.stop()


def _exception_chain(err: BaseException) -> list[BaseException]:
    """Return the error with every cause and context behind it."""
    chain: list[BaseException] = []
    pending: list[BaseException | None] = [err]
    while pending:
        current = pending.pop()
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        pending += [current.__cause__, current.__context__]
    return chain


def _assert_no_token(*objects: object) -> None:
    """Assert that neither str() nor repr() of any object shows a token."""
    for obj in objects:
        for text in (str(obj), repr(obj)):
            assert ALL_TOKEN not in text
            assert SINGLE_TOKEN not in text


async def _raises[E: SpectronicsError](
    awaitable: Awaitable[Any], expected: type[E], message: str | None = None
) -> E:
    """Await, expect exactly this error (and message), free of any token."""
    with pytest.raises(expected) as excinfo:
        await awaitable
    err = excinfo.value
    assert type(err) is expected
    if message is not None:
        assert str(err) == message
    _assert_no_token(*_exception_chain(err))
    return err


def _body(**fields: str) -> bytes:
    """Return the urlencoded form the client is expected to send, in order."""
    return "&".join(f"{key}={value}" for key, value in fields.items()).encode()


# ---------------------------------------------------------------------------
# CallRequest validation: pure, no I/O.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["destination", "source"])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03333444110", "03333444110"),
        ("+44 (0)20-1234.5678", "+4402012345678"),
        ("  0333 444 110  ", "0333444110"),
        ("(01632) 960-001", "01632960001"),
        ("1.2.3", "123"),
        ("*123#", "*123#"),
        ("#31#07700900123", "#31#07700900123"),
        ("+" + "1" * 31, "+" + "1" * 31),
        ("1" * 32, "1" * 32),
        ("1 " * 32, "1" * 32),
        ("7", "7"),
    ],
)
def test_number_normalized(field: str, raw: str, expected: str) -> None:
    """Spaces, dashes, dots and parentheses are stripped; +, digits, * and # stay."""
    request = CallRequest(**{"destination": "100", field: raw})
    assert getattr(request, field) == expected


@pytest.mark.parametrize("field", ["destination", "source"])
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (" ", NOT_NUMBER),
        ("-().", NOT_NUMBER),
        ("+", NOT_NUMBER),
        ("++44", NOT_NUMBER),
        ("44+1", NOT_NUMBER),
        ("0800 CALL NOW", NOT_NUMBER),
        ("123a", NOT_NUMBER),
        ("sip:123", NOT_NUMBER),
        ("12/3", NOT_NUMBER),
        ("12,3", NOT_NUMBER),
        ("12;3", NOT_NUMBER),
        ("12_3", NOT_NUMBER),
        ("12&3", NOT_NUMBER),
        ("1=2", NOT_NUMBER),
        ("1%203", NOT_NUMBER),
        ("123&destination=999", NOT_NUMBER),
        ("123\r\n", NOT_NUMBER),
        ("123\n", NOT_NUMBER),
        ("12\r3", NOT_NUMBER),
        ("12\t3", NOT_NUMBER),
        ("12\x003", NOT_NUMBER),
        ("12٣", NOT_NUMBER),
        ("٠١٢٣٤٥٦٧٨٩", NOT_NUMBER),
        ("１２３", NOT_NUMBER),
        ("12\u00a03", NOT_NUMBER),
        ("1" * 33, TOO_LONG),
        ("+" + "1" * 32, TOO_LONG),
        ("*" * 33, TOO_LONG),
    ],
)
def test_number_refused(field: str, raw: str, reason: str) -> None:
    """Anything but a dialable number of at most 32 characters is refused."""
    with pytest.raises(SpectronicsValidationError) as excinfo:
        CallRequest(**{"destination": "100", field: raw})
    assert excinfo.value.field == field
    assert str(excinfo.value) == f"{field}: {reason}"


def test_destination_required() -> None:
    """An empty destination is refused, not dropped like the optional fields."""
    with pytest.raises(SpectronicsValidationError) as excinfo:
        CallRequest(destination="")
    assert excinfo.value.field == "destination"
    assert str(excinfo.value) == f"destination: {NOT_NUMBER}"


@pytest.mark.parametrize("extension", ["1234567", "0000000", "9999999"])
def test_extension_accepted(extension: str) -> None:
    """An extension of exactly 7 ASCII digits is kept as given."""
    assert CallRequest(destination="1", extension=extension).extension == extension


BAD_EXTENSIONS = [
    "123456",
    "12345678",
    "123456a",
    "123 4567",
    "123-4567",
    " 1234567",
    "1234567\n",
    "+123456",
    "١٢٣٤٥٦٧",
    "123456٣",
    "１２３４５６７",
]


@pytest.mark.parametrize("extension", BAD_EXTENSIONS)
def test_extension_refused(extension: str) -> None:
    """Anything but exactly 7 ASCII digits is refused, and not normalized."""
    with pytest.raises(SpectronicsValidationError) as excinfo:
        CallRequest(destination="1", extension=extension)
    assert excinfo.value.field == "extension"
    assert str(excinfo.value) == NOT_EXTENSION


@pytest.mark.parametrize(
    "cidname",
    [
        "ALARM: KITCHEN",
        "Zoë & Co = 100%",
        "電話 Ünïcödé",
        " padded ",
        "x" * 40,
        "é" * 40,
    ],
)
def test_cidname_accepted(cidname: str) -> None:
    """A printable caller name of at most 40 characters is kept unchanged."""
    assert CallRequest(destination="1", cidname=cidname).cidname == cidname


@pytest.mark.parametrize(
    ("cidname", "reason"),
    [
        ("x" * 41, "longer than 40 characters"),
        ("é" * 41, "longer than 40 characters"),
        ("line\nbreak", "contains control characters"),
        ("carriage\rreturn", "contains control characters"),
        ("tab\there", "contains control characters"),
        ("nul\x00", "contains control characters"),
        ("del\x7f", "contains control characters"),
        ("\x1b[31mred", "contains control characters"),
        ("\u200fRTL mark", "contains control characters"),
        ("\u202eoverride", "contains control characters"),
        ("zero\u200bwidth", "contains control characters"),
        ("para\u2029sep", "contains control characters"),
    ],
)
def test_cidname_refused(cidname: str, reason: str) -> None:
    """A caller name that is too long (never cut) or not printable is refused."""
    with pytest.raises(SpectronicsValidationError) as excinfo:
        CallRequest(destination="1", cidname=cidname)
    assert excinfo.value.field == "cidname"
    assert str(excinfo.value) == f"cidname: {reason}"


def test_empty_optional_fields_become_none() -> None:
    """Empty optional fields become None; the defaults are documented ones."""
    request = CallRequest(destination="1", extension="", cidname="", source="")
    assert request == CallRequest(destination="1")
    assert dataclasses.astuple(request) == ("1", None, None, False, None, False)


def test_request_frozen() -> None:
    """A validated request cannot be changed afterwards."""
    request = CallRequest(destination="1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.destination = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("request_", "form"),
    [
        (
            CallRequest(destination="1"),
            {"destination": "1", "reverse": "0", "wait": "0"},
        ),
        (
            CallRequest(
                destination="+44 1",
                extension=OTHER_EXTENSION,
                cidname="Door",
                reverse=True,
                source="07700 900123",
                wait=True,
            ),
            {
                "extension": OTHER_EXTENSION,
                "destination": "+441",
                "cidname": "Door",
                "reverse": "1",
                "source": "07700900123",
                "wait": "1",
            },
        ),
    ],
)
def test_request_form(request_: CallRequest, form: dict[str, str]) -> None:
    """The form holds the documented fields, in order, without the empty ones."""
    assert list(request_.form().items()) == list(form.items())


@pytest.mark.parametrize(
    ("error", "category"),
    [
        (SpectronicsError, "unknown"),
        (SpectronicsValidationError, "validation"),
        (SpectronicsConnectionError, "connection"),
        (SpectronicsTimeoutError, "timeout"),
        (SpectronicsResponseError, "invalid_response"),
        (SpectronicsApiError, "api"),
        (SpectronicsAuthError, "auth"),
        (SpectronicsExtensionError, "api"),
    ],
)
def test_error_category(error: type[SpectronicsError], category: str) -> None:
    """Each error class names its category for the events."""
    assert error.category == category


def test_error_hierarchy() -> None:
    """Auth and extension errors are API errors; a validation error is a ValueError."""
    assert issubclass(SpectronicsAuthError, SpectronicsApiError)
    assert issubclass(SpectronicsExtensionError, SpectronicsApiError)
    assert not issubclass(SpectronicsExtensionError, SpectronicsAuthError)
    assert issubclass(SpectronicsValidationError, ValueError)
    for error in (
        SpectronicsValidationError,
        SpectronicsConnectionError,
        SpectronicsTimeoutError,
        SpectronicsResponseError,
        SpectronicsApiError,
    ):
        assert issubclass(error, SpectronicsError)
        assert error.__bases__[0] is SpectronicsError


@pytest.mark.parametrize("extension", ["", *BAD_EXTENSIONS])
async def test_client_refuses_extension(
    session: aiohttp.ClientSession, simulator: Simulator, extension: str
) -> None:
    """The client's own extension is validated before anything is sent."""
    with pytest.raises(SpectronicsValidationError) as excinfo:
        SpectronicsClient(session, ALL_TOKEN, extension, simulator.url)
    assert excinfo.value.field == "extension"
    assert simulator.requests == []


def test_client_repr(session: aiohttp.ClientSession) -> None:
    """The client's repr shows the URL and extension, never the token."""
    client = SpectronicsClient(
        session, ALL_TOKEN, EXTENSION, "http://example.invalid/x"
    )
    assert repr(client) == (
        "SpectronicsClient(url='http://example.invalid/x', extension='1234567')"
    )
    _assert_no_token(client)
    assert (client.request_timeout, client.wait_timeout) == (20.0, 120.0)


# ---------------------------------------------------------------------------
# place_call: what goes over the wire.
# ---------------------------------------------------------------------------


async def test_place_call_minimal(
    client: SpectronicsClient, simulator: Simulator
) -> None:
    """One POST of a form: auth, the client's extension, destination, 0/0 flags."""
    request = CallRequest(destination="03333444110")
    result = await client.place_call(request)

    assert result == CallReply(
        CallRequest(destination="03333444110", extension=EXTENSION),
        "Call request sent",
    )
    assert request.extension is None
    assert len(simulator.requests) == 1
    recorded = simulator.requests[-1]
    assert recorded.method == "POST"
    assert recorded.path == PATH
    assert recorded.content_type == FORM
    assert recorded.query == {}
    expected = {
        "auth": ALL_TOKEN,
        "extension": EXTENSION,
        "destination": "03333444110",
        "reverse": "0",
        "wait": "0",
    }
    assert recorded.fields == expected
    assert recorded.body == _body(**expected)
    assert simulator.calls == [expected]
    _assert_no_token(result, result.request)


@pytest.mark.parametrize(
    ("reverse", "wait", "message"),
    [
        (False, False, "Call request sent"),
        (True, False, "Call request sent"),
        (False, True, "Call answered"),
        (True, True, "Call answered"),
    ],
)
async def test_place_call_all_fields(
    client: SpectronicsClient,
    simulator: Simulator,
    reverse: bool,
    wait: bool,
    message: str,
) -> None:
    """Every documented field is sent, flags as 1/0, the request's extension wins."""
    request = CallRequest(
        destination="+44 (0)20-1234.5678",
        extension=OTHER_EXTENSION,
        cidname="Zoë & Co=1",
        reverse=reverse,
        source="*07700 900123#",
        wait=wait,
    )
    result = await client.place_call(request)

    assert result == CallReply(request, message)
    recorded = simulator.requests[-1]
    assert recorded.content_type == FORM
    assert recorded.query == {}
    flags = {"reverse": "1" if reverse else "0", "wait": "1" if wait else "0"}
    assert list(recorded.fields.items()) == [
        ("auth", ALL_TOKEN),
        ("extension", OTHER_EXTENSION),
        ("destination", "+4402012345678"),
        ("cidname", "Zoë & Co=1"),
        ("reverse", flags["reverse"]),
        ("source", "*07700900123#"),
        ("wait", flags["wait"]),
    ]
    assert recorded.body == _body(
        auth=ALL_TOKEN,
        extension=OTHER_EXTENSION,
        destination="%2B4402012345678",
        cidname="Zo%C3%AB+%26+Co%3D1",
        reverse=flags["reverse"],
        source="%2A07700900123%23",
        wait=flags["wait"],
    )
    assert simulator.calls == [recorded.fields]


@pytest.mark.parametrize("empty", ["", None])
async def test_place_call_omits_empty_fields(
    client: SpectronicsClient, simulator: Simulator, empty: str | None
) -> None:
    """Empty cidname, source and extension are not sent as empty fields."""
    request = CallRequest(
        destination="100", extension=empty, cidname=empty, source=empty
    )
    await client.place_call(request)
    fields = simulator.requests[-1].fields
    assert list(fields) == ["auth", "extension", "destination", "reverse", "wait"]
    assert fields["extension"] == EXTENSION
    assert b"cidname" not in simulator.requests[-1].body
    assert b"source" not in simulator.requests[-1].body


async def test_place_call_token_only_in_body(simulator: Simulator) -> None:
    """The token travels in the POST body, never in the URL or query string."""
    urls: list[str] = []

    async def on_request_start(
        _session: aiohttp.ClientSession,
        _context: object,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        urls.append(str(params.url))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as traced:
        client = SpectronicsClient(traced, ALL_TOKEN, EXTENSION, simulator.url)
        await client.place_call(CallRequest(destination="100"))
        await client.check_credentials()

    assert urls == [simulator.url, simulator.url]
    for recorded in simulator.requests:
        assert recorded.method == "POST"
        assert recorded.path == PATH
        assert recorded.query == {}
        assert recorded.body.startswith(f"auth={ALL_TOKEN}&".encode())


@pytest.mark.parametrize(
    "token", ["a&b=c", "p+q r%20s", "tök€n/?#", " leading and trailing "]
)
async def test_token_encoded(
    session: aiohttp.ClientSession, simulator: Simulator, token: str
) -> None:
    """A token with reserved characters reaches the provider unchanged."""
    simulator.tokens = {token}
    client = SpectronicsClient(session, token, EXTENSION, simulator.url)
    await client.check_credentials()
    result = await client.place_call(CallRequest(destination="100"))

    assert result.message == "Call request sent"
    for recorded in simulator.requests:
        assert recorded.content_type == FORM
        assert recorded.query == {}
        assert recorded.fields["auth"] == token
    assert [list(recorded.fields) for recorded in simulator.requests] == [
        ["auth", "extension"],
        ["auth", "extension", "destination", "reverse", "wait"],
    ]


async def test_place_call_single_token(
    session: aiohttp.ClientSession, simulator: Simulator
) -> None:
    """A single-extension token places calls whatever extension is sent."""
    client = SpectronicsClient(session, SINGLE_TOKEN, EXTENSION, simulator.url)
    result = await client.place_call(CallRequest(destination="100"))
    assert result.message == "Call request sent"
    assert simulator.requests[-1].fields["auth"] == SINGLE_TOKEN
    assert simulator.requests[-1].fields["extension"] == EXTENSION


async def test_place_call_bad_token(
    session: aiohttp.ClientSession, simulator: Simulator
) -> None:
    """The provider's authentication ERR is an auth error; nothing rings."""
    client = SpectronicsClient(session, "wrong-token", EXTENSION, simulator.url)
    await _raises(
        client.place_call(CallRequest(destination="100")),
        SpectronicsAuthError,
        "Invalid authentication",
    )
    assert simulator.calls == []


async def test_place_call_unknown_extension(
    client: SpectronicsClient, simulator: Simulator
) -> None:
    """On place_call an extension ERR stays a plain API error."""
    simulator.extensions = {EXTENSION}
    await _raises(
        client.place_call(CallRequest(destination="100", extension=OTHER_EXTENSION)),
        SpectronicsApiError,
        "Invalid extension",
    )
    assert simulator.calls == []


@pytest.mark.parametrize(
    ("fields", "phones", "first", "error"),
    [
        pytest.param({}, {}, EXTENSION, None, id="default-answered"),
        # The destination is dialled only once the extension answers: its own
        # answer is never what wait reports.
        pytest.param(
            {}, {"01632960001": "reject"}, EXTENSION, None, id="default-dest-rejects"
        ),
        pytest.param(
            {},
            {EXTENSION: "reject"},
            EXTENSION,
            "Call rejected",
            id="default-ext-rejects",
        ),
        pytest.param(
            {},
            {EXTENSION: "timeout"},
            EXTENSION,
            "Call timed out",
            id="default-ext-out",
        ),
        pytest.param(
            {"source": "07700900123"},
            {EXTENSION: "timeout"},
            "07700900123",
            None,
            id="source-answered",
        ),
        pytest.param(
            {"source": "07700900123"},
            {"07700900123": "reject"},
            "07700900123",
            "Call rejected",
            id="source-rejects",
        ),
        pytest.param(
            {"reverse": True}, {}, "01632960001", None, id="reverse-both-answer"
        ),
        pytest.param(
            {"reverse": True},
            {"01632960001": "timeout"},
            "01632960001",
            "Call timed out",
            id="reverse-dest-out",
        ),
        # Reversed, the extension rings second and must answer too.
        pytest.param(
            {"reverse": True},
            {EXTENSION: "reject"},
            "01632960001",
            "Call rejected",
            id="reverse-ext-rejects",
        ),
    ],
)
async def test_place_call_wait_reports_the_phone_rung_first(
    client: SpectronicsClient,
    simulator: Simulator,
    *,
    fields: dict[str, Any],
    phones: dict[str, Answer],
    first: str,
    error: str | None,
) -> None:
    """With wait=1 the reply is the first leg's answer (reversed: both legs')."""
    simulator.phones = phones
    request = CallRequest(destination="01632960001", wait=True, **fields)
    if error is None:
        result = await client.place_call(request)
        assert result.message == "Call answered"
    else:
        await _raises(client.place_call(request), SpectronicsApiError, error)
    assert simulator.requests[-1].fields["wait"] == "1"
    assert simulator.rung_first == [first]
    assert len(simulator.calls) == 1


async def test_a_single_extension_token_rings_its_own_extension_first(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    """A token for one extension ignores the extension sent and rings its own."""
    client = SpectronicsClient(session, SINGLE_TOKEN, EXTENSION, simulator.url)
    simulator.phones = {OTHER_EXTENSION: "reject"}

    await _raises(
        client.place_call(CallRequest(destination="2001", wait=True)),
        SpectronicsApiError,
        "Call rejected",
    )

    assert simulator.calls[-1]["extension"] == EXTENSION
    assert simulator.rung_first == [OTHER_EXTENSION]


# ---------------------------------------------------------------------------
# check_credentials
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "extension"),
    [
        (ALL_TOKEN, EXTENSION),
        (ALL_TOKEN, OTHER_EXTENSION),
        (SINGLE_TOKEN, OTHER_EXTENSION),
        (SINGLE_TOKEN, EXTENSION),
        (SINGLE_TOKEN, "0000000"),
    ],
)
async def test_check_credentials_pass(
    session: aiohttp.ClientSession, simulator: Simulator, token: str, extension: str
) -> None:
    """Auth and extension only, no destination: nothing rings, the check passes."""
    client = SpectronicsClient(session, token, extension, simulator.url)
    assert await client.check_credentials() is None

    assert len(simulator.requests) == 1
    recorded = simulator.requests[0]
    assert recorded.method == "POST"
    assert recorded.content_type == FORM
    assert recorded.query == {}
    assert recorded.fields == {"auth": token, "extension": extension}
    assert recorded.body == _body(auth=token, extension=extension)
    assert simulator.calls == []


@pytest.mark.parametrize("token", ["wrong-token", "", SINGLE_TOKEN.upper()])
async def test_check_credentials_bad_token(
    session: aiohttp.ClientSession, simulator: Simulator, token: str
) -> None:
    """A token the provider does not know is an auth error."""
    client = SpectronicsClient(session, token, EXTENSION, simulator.url)
    await _raises(
        client.check_credentials(), SpectronicsAuthError, "Invalid authentication"
    )
    assert simulator.requests[-1].fields == {"auth": token, "extension": EXTENSION}
    assert simulator.calls == []


@pytest.mark.parametrize("extension", ["7777777", "0000000", OTHER_EXTENSION])
async def test_check_credentials_unknown_extension(
    session: aiohttp.ClientSession, simulator: Simulator, extension: str
) -> None:
    """An all-extensions token with an extension not on the account."""
    simulator.extensions = {EXTENSION}
    client = SpectronicsClient(session, ALL_TOKEN, extension, simulator.url)
    err = await _raises(
        client.check_credentials(), SpectronicsExtensionError, "Invalid extension"
    )
    assert type(err.__cause__) is SpectronicsApiError
    assert str(err.__cause__) == "Invalid extension"
    assert simulator.calls == []


async def test_check_credentials_malformed_extension(
    client: SpectronicsClient, simulator: Simulator
) -> None:
    """A malformed extension that reaches the provider is an extension error."""
    client.extension = "12345"
    await _raises(
        client.check_credentials(), SpectronicsExtensionError, "Invalid extension"
    )
    assert simulator.requests[-1].fields == {"auth": ALL_TOKEN, "extension": "12345"}
    assert simulator.calls == []


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        (Fault(body=b"ERR:Invalid authentication"), SpectronicsAuthError, None),
        (Fault(body=b"ERR:Token expired"), SpectronicsAuthError, "Token expired"),
        (Fault(body=b"ERR:Bad CREDENTIALS"), SpectronicsAuthError, "Bad CREDENTIALS"),
        (
            Fault(body=b"ERR:Invalid authentication for extension"),
            SpectronicsAuthError,
            "Invalid authentication for extension",
        ),
        (
            Fault(body=b"ERR:EXTENSION must be 7 digits"),
            SpectronicsExtensionError,
            "EXTENSION must be 7 digits",
        ),
        (Fault(body=b"ERR:No destination specified"), None, None),
        (Fault(body=b"ERR:Rate limit exceeded"), None, None),
        (Fault(body=b"ERR:"), None, None),
        (Fault(body=b"OK:Call request sent"), None, None),
        (FAULTS["html"], SpectronicsResponseError, NOT_A_LINE),
        (FAULTS["empty"], SpectronicsResponseError, NOT_A_LINE),
        (FAULTS["http500"], SpectronicsResponseError, "unexpected HTTP status 500"),
        (FAULTS["drop"], SpectronicsConnectionError, "Server disconnected"),
    ],
)
async def test_check_credentials_replies(
    client: SpectronicsClient,
    simulator: Simulator,
    fault: Fault,
    error: type[SpectronicsError] | None,
    message: str | None,
) -> None:
    """Auth ERR fails, extension ERR fails, any other ERR or OK passes."""
    simulator.set_fault(fault)
    if error is None:
        assert await client.check_credentials() is None
    else:
        await _raises(client.check_credentials(), error, message)
    assert len(simulator.requests) == 1


# ---------------------------------------------------------------------------
# Reply parsing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"OK:Call request sent", "Call request sent"),
        (b"OK:Call request sent\n", "Call request sent"),
        (b"OK:Call request sent\r\n", "Call request sent"),
        (b"  \r\n\tOK:  Call request sent \t\r\n\r\n", "Call request sent"),
        (b"\xef\xbb\xbfOK:Call request sent\r\n", "Call request sent"),
        (b"\xef\xbb\xbf  OK:with BOM and spaces", "with BOM and spaces"),
        (b"ok:lower case", "lower case"),
        (b"Ok:mixed case", "mixed case"),
        (b"OK:", ""),
        (b"OK:   \r\n", ""),
        (b"OK:a:b:c", "a:b:c"),
        (b"OK:first\nERR:second", "first"),
        (b"OK:first\r\nERR:second\r\n", "first"),
        (b"OK:first\n\nsecond\nthird", "first"),
        ("OK:Appel envoyé".encode(), "Appel envoyé"),
    ],
)
async def test_reply_ok(
    client: SpectronicsClient, simulator: Simulator, body: bytes, message: str
) -> None:
    """An OK: line, however padded or cased, is a CallReply with its message."""
    simulator.set_fault(Fault(body=body))
    request = CallRequest(destination="100")
    assert await client.place_call(request) == CallReply(
        CallRequest(destination="100", extension=EXTENSION), message
    )


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"ERR:Invalid destination", SpectronicsApiError, "Invalid destination"),
        (b"ERR:Invalid destination\r\n", SpectronicsApiError, "Invalid destination"),
        (b"\xef\xbb\xbfERR:No credit\r\n", SpectronicsApiError, "No credit"),
        (b"err:lower case", SpectronicsApiError, "lower case"),
        (b"Err:  mixed  ", SpectronicsApiError, "mixed"),
        (b"ERR:", SpectronicsApiError, ""),
        (b"ERR:first\nOK:second", SpectronicsApiError, "first"),
        (b"ERR:first\r\nOK:second", SpectronicsApiError, "first"),
        (b"ERR:Invalid extension", SpectronicsApiError, "Invalid extension"),
        (b"ERR:Invalid authentication", SpectronicsAuthError, "Invalid authentication"),
        (b"err:AUTHENTICATION FAILED", SpectronicsAuthError, "AUTHENTICATION FAILED"),
        (b"ERR:Token revoked", SpectronicsAuthError, "Token revoked"),
        (b"ERR:bad token", SpectronicsAuthError, "bad token"),
        (b"ERR:Invalid credentials", SpectronicsAuthError, "Invalid credentials"),
        (
            b"ERR:Call rejected\nInvalid authentication",
            SpectronicsApiError,
            "Call rejected",
        ),
    ],
)
async def test_reply_err(
    client: SpectronicsClient,
    simulator: Simulator,
    body: bytes,
    error: type[SpectronicsApiError],
    message: str,
) -> None:
    """An ERR: line is an API error with the provider's text; auth text -> auth error."""
    simulator.set_fault(Fault(body=body))
    await _raises(client.place_call(CallRequest(destination="100")), error, message)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (FAULTS["html"], NOT_A_LINE),
        (FAULTS["json"], NOT_A_LINE),
        (FAULTS["empty"], NOT_A_LINE),
        (FAULTS["garbage"], NOT_UTF8),
        (FAULTS["oversized"], TOO_LARGE),
        (Fault(body=b"   \r\n\r\n"), NOT_A_LINE),
        (Fault(body=b"\xef\xbb\xbf"), NOT_A_LINE),
        (Fault(body=b"OK"), NOT_A_LINE),
        (Fault(body=b"OK Call request sent"), NOT_A_LINE),
        (Fault(body=b"OKAY:Call request sent"), NOT_A_LINE),
        (Fault(body=b"ERROR:Call failed"), NOT_A_LINE),
        (Fault(body=b":Call request sent"), NOT_A_LINE),
        (Fault(body=b"Call request sent\nOK:x"), NOT_A_LINE),
        (Fault(body=b"<p>OK:Call request sent</p>"), NOT_A_LINE),
        (Fault(body=b"\x00OK:Call request sent"), NOT_A_LINE),
        (Fault(body=b"\xffOK:Call request sent"), NOT_UTF8),
        (Fault(body=b"OK:caf\xe9"), NOT_UTF8),
        (Fault(body=b"\xff\xfeO\x00K\x00:\x00"), NOT_UTF8),
        (Fault(body=b"OK:" + b"x" * MAX_REPLY_BYTES), TOO_LARGE),
        (Fault(body=b"x" * (MAX_REPLY_BYTES + 1)), TOO_LARGE),
        (Fault(status=204), NOT_A_LINE),
    ],
)
async def test_reply_invalid(
    client: SpectronicsClient, simulator: Simulator, fault: Fault, message: str
) -> None:
    """A reply that is neither an OK: nor an ERR: line is never a success."""
    simulator.set_fault(fault)
    await _raises(
        client.place_call(CallRequest(destination="100")),
        SpectronicsResponseError,
        message,
    )
    assert len(simulator.requests) == 1


async def test_reply_at_size_limit(
    client: SpectronicsClient, simulator: Simulator
) -> None:
    """A reply of exactly 64 KiB is still read in full."""
    simulator.set_fault(Fault(body=b"OK:" + b"x" * (MAX_REPLY_BYTES - 3)))
    result = await client.place_call(CallRequest(destination="100"))
    assert result.message == "x" * (MAX_REPLY_BYTES - 3)


async def test_reply_ok_whatever_content_type(
    client: SpectronicsClient, simulator: Simulator
) -> None:
    """The documented line decides, not the Content-Type header."""
    simulator.set_fault(
        Fault(body=b"OK:Call request sent", headers={"Content-Type": "text/html"})
    )
    result = await client.place_call(CallRequest(destination="100"))
    assert result.message == "Call request sent"


async def test_reply_huge_stops_early(
    client: SpectronicsClient, simulator: Simulator
) -> None:
    """A 20 MiB reply is refused after 64 KiB, quickly and without buffering it."""
    simulator.set_fault("huge")
    tracemalloc.start()
    try:
        start = time.monotonic()
        await _raises(
            client.place_call(CallRequest(destination="100")),
            SpectronicsResponseError,
            TOO_LARGE,
        )
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0
    assert peak < 4 * 1024 * 1024

    # The connection was dropped, not drained: the session still works.
    simulator.set_fault(None)
    result = await client.place_call(CallRequest(destination="100"))
    assert result.message == "Call request sent"
    assert len(simulator.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 429, 500, 502, 503])
@pytest.mark.parametrize(
    "body", [b"OK:Call request sent", b"Server Error", b"", b"<html>ERR:</html>"]
)
async def test_reply_status_not_2xx(
    client: SpectronicsClient, simulator: Simulator, status: int, body: bytes
) -> None:
    """A non-2xx status without an ERR: line is an invalid response, even with OK:."""
    simulator.set_fault(Fault(status=status, body=body))
    await _raises(
        client.place_call(CallRequest(destination="100")),
        SpectronicsResponseError,
        f"unexpected HTTP status {status}",
    )


@pytest.mark.parametrize("status", [400, 401, 403, 500, 503])
@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"ERR:Invalid authentication", SpectronicsAuthError, "Invalid authentication"),
        (b"ERR:Invalid destination\r\n", SpectronicsApiError, "Invalid destination"),
    ],
)
async def test_reply_status_not_2xx_with_err_line(
    client: SpectronicsClient,
    simulator: Simulator,
    *,
    status: int,
    body: bytes,
    error: type[SpectronicsError],
    message: str,
) -> None:
    """An ERR: line is the provider's answer whatever the (undocumented) status."""
    simulator.set_fault(Fault(status=status, body=body))
    await _raises(client.place_call(CallRequest(destination="100")), error, message)


@pytest.mark.parametrize("fault", ["http500", "http503"])
async def test_reply_named_http_faults(
    client: SpectronicsClient, simulator: Simulator, fault: str
) -> None:
    """The simulator's own HTTP error faults are invalid responses."""
    simulator.set_fault(fault)
    await _raises(
        client.place_call(CallRequest(destination="100")),
        SpectronicsResponseError,
        f"unexpected HTTP status {FAULTS[fault].status}",
    )


@pytest.mark.parametrize("status", [201, 202, 299])
async def test_reply_status_2xx(
    client: SpectronicsClient, simulator: Simulator, status: int
) -> None:
    """Any 2xx status carrying an OK: line is a success."""
    simulator.set_fault(Fault(status=status, body=b"OK:Created"))
    result = await client.place_call(CallRequest(destination="100"))
    assert result.message == "Created"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_not_followed(
    client: SpectronicsClient, simulator: Simulator, target: Simulator, status: int
) -> None:
    """A redirect is an invalid response and is not followed."""
    simulator.set_fault(
        Fault(status=status, body=b"OK:moved", headers={"Location": target.url})
    )
    await _raises(
        client.place_call(CallRequest(destination="100")),
        SpectronicsResponseError,
        f"unexpected HTTP status {status}",
    )
    await _raises(
        client.check_credentials(),
        SpectronicsResponseError,
        f"unexpected HTTP status {status}",
    )
    assert len(simulator.requests) == 2
    assert target.requests == []
    assert target.calls == []


async def test_redirect_named_fault(
    client: SpectronicsClient, simulator: Simulator
) -> None:
    """The simulator's redirect fault is an invalid response."""
    simulator.set_fault("redirect")
    await _raises(
        client.place_call(CallRequest(destination="100")),
        SpectronicsResponseError,
        "unexpected HTTP status 302",
    )


# ---------------------------------------------------------------------------
# Transport: connection failures and timeouts.
# ---------------------------------------------------------------------------


async def test_connection_refused(
    session: aiohttp.ClientSession, closed_url: str
) -> None:
    """Nothing listening is a connection error."""
    client = SpectronicsClient(session, ALL_TOKEN, EXTENSION, closed_url)
    err = await _raises(
        client.place_call(CallRequest(destination="100")), SpectronicsConnectError
    )
    # A connection error like any other, that says nothing was sent (so may be retried).
    assert isinstance(err, SpectronicsConnectionError)
    assert err.category == "connection"
    port = URL(closed_url).port
    assert str(err).startswith(f"Cannot connect to host 127.0.0.1:{port}")
    assert isinstance(err.__cause__, aiohttp.ClientConnectorError)
    await _raises(client.check_credentials(), SpectronicsConnectError, str(err))


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("drop", "Server disconnected"),
        ("reset", "Response payload is not completed"),
    ],
)
async def test_connection_lost(
    client: SpectronicsClient, simulator: Simulator, fault: str, message: str
) -> None:
    """A connection dropped before or during the reply is a connection error."""
    simulator.set_fault(fault)
    err = await _raises(
        client.place_call(CallRequest(destination="100")), SpectronicsConnectionError
    )
    assert str(err).startswith(message)
    assert isinstance(err.__cause__, aiohttp.ClientError)
    assert len(simulator.requests) == 1
    assert simulator.calls == []


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.1:99999/api/0.9.3/call?auth={ALL_TOKEN}",
        f"ftp://127.0.0.1/{ALL_TOKEN}",
    ],
)
async def test_connection_error_redacted(
    session: aiohttp.ClientSession, url: str
) -> None:
    """An aiohttp error echoing the token (here, in a bad URL) is redacted."""
    client = SpectronicsClient(session, ALL_TOKEN, EXTENSION, url)
    with pytest.raises(SpectronicsConnectionError) as excinfo:
        await client.check_credentials()
    assert str(excinfo.value) == url.replace(ALL_TOKEN, REDACTED)
    _assert_no_token(excinfo.value)


async def test_timeout_no_wait(
    session: aiohttp.ClientSession, simulator: Simulator
) -> None:
    """With wait=0 a reply slower than request_timeout is a timeout."""
    client = SpectronicsClient(
        session, ALL_TOKEN, EXTENSION, simulator.url, request_timeout=0.2
    )
    simulator.set_fault(Fault(delay=0.5, then_model=True))
    start = time.monotonic()
    err = await _raises(
        client.place_call(CallRequest(destination="100")),
        SpectronicsTimeoutError,
        "no reply within 0.2 s",
    )
    assert time.monotonic() - start >= 0.19
    assert isinstance(err.__cause__, TimeoutError)
    await _raises(
        client.check_credentials(), SpectronicsTimeoutError, "no reply within 0.2 s"
    )


async def test_timeout_covers_whole_reply(
    session: aiohttp.ClientSession, simulator: Simulator
) -> None:
    """The timeout bounds the whole exchange, not each read: a dribble times out."""
    client = SpectronicsClient(
        session, ALL_TOKEN, EXTENSION, simulator.url, request_timeout=0.3
    )
    simulator.set_fault(Fault(body=b"OK:Call request sent", byte_delay=0.05))
    await _raises(
        client.place_call(CallRequest(destination="100")),
        SpectronicsTimeoutError,
        "no reply within 0.3 s",
    )


@pytest.mark.parametrize(
    ("timeouts", "override", "message"),
    [
        ({"request_timeout": 5.0, "wait_timeout": 0.2}, None, "no reply within 0.2 s"),
        ({"wait_timeout": 5.0}, 0.2, "no reply within 0.2 s"),
        (
            {"request_timeout": 0.2, "wait_timeout": 0.25},
            None,
            "no reply within 0.25 s",
        ),
    ],
)
async def test_timeout_wait(
    session: aiohttp.ClientSession,
    simulator: Simulator,
    timeouts: dict[str, float],
    override: float | None,
    message: str,
) -> None:
    """With wait=1 the wait timeout, or the per-call override, bounds the ring."""
    simulator.ring_time = 0.6
    client = SpectronicsClient(session, ALL_TOKEN, EXTENSION, simulator.url, **timeouts)
    await _raises(
        client.place_call(
            CallRequest(destination="100", wait=True), wait_timeout=override
        ),
        SpectronicsTimeoutError,
        message,
    )
    assert len(simulator.calls) == 1


@pytest.mark.parametrize(
    ("timeouts", "override"),
    [
        ({"request_timeout": 0.1, "wait_timeout": 5.0}, None),
        ({"request_timeout": 0.1, "wait_timeout": 0.1}, 5.0),
    ],
)
async def test_wait_uses_wait_timeout(
    session: aiohttp.ClientSession,
    simulator: Simulator,
    timeouts: dict[str, float],
    override: float | None,
) -> None:
    """A ring longer than request_timeout but within the wait timeout succeeds."""
    simulator.ring_time = 0.3
    client = SpectronicsClient(session, ALL_TOKEN, EXTENSION, simulator.url, **timeouts)
    start = time.monotonic()
    result = await client.place_call(
        CallRequest(destination="100", wait=True), wait_timeout=override
    )
    assert result.message == "Call answered"
    assert time.monotonic() - start >= 0.29


async def test_no_wait_ignores_wait_timeout(
    session: aiohttp.ClientSession, simulator: Simulator
) -> None:
    """With wait=0 the request timeout applies; a wait_timeout override does not."""
    client = SpectronicsClient(
        session,
        ALL_TOKEN,
        EXTENSION,
        simulator.url,
        request_timeout=5.0,
        wait_timeout=0.05,
    )
    simulator.set_fault(Fault(delay=0.2, then_model=True))
    result = await client.place_call(CallRequest(destination="100"), wait_timeout=0.05)
    assert result.message == "Call request sent"
    assert len(simulator.calls) == 1


# ---------------------------------------------------------------------------
# The token never leaks.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (
            b"ERR:bad token " + ALL_TOKEN.encode(),
            SpectronicsAuthError,
            f"bad token {REDACTED}",
        ),
        (
            b"ERR:Call rejected for " + ALL_TOKEN.encode(),
            SpectronicsApiError,
            f"Call rejected for {REDACTED}",
        ),
        (
            ALL_TOKEN.encode() + b"ERR:" + ALL_TOKEN.encode() * 2,
            SpectronicsResponseError,
            NOT_A_LINE,
        ),
    ],
)
async def test_token_redacted_from_errors(
    client: SpectronicsClient,
    simulator: Simulator,
    body: bytes,
    error: type[SpectronicsError],
    message: str,
) -> None:
    """A provider message echoing the token is redacted before it is raised."""
    simulator.set_fault(Fault(body=body))
    err = await _raises(
        client.place_call(CallRequest(destination="100")), error, message
    )
    _assert_no_token(err, err.args, client)


async def test_token_redacted_from_result(
    client: SpectronicsClient, simulator: Simulator
) -> None:
    """An OK message echoing the token is redacted in the result."""
    simulator.set_fault(Fault(body=b"OK:queued for " + ALL_TOKEN.encode() + b" ok"))
    result = await client.place_call(CallRequest(destination="100", cidname="Door"))
    assert result.message == f"queued for {REDACTED} ok"
    _assert_no_token(result, result.request, client)


async def test_token_redacted_from_extension_error(
    client: SpectronicsClient, simulator: Simulator
) -> None:
    """check_credentials' extension error keeps the redacted text only."""
    simulator.set_fault(
        Fault(body=b"ERR:extension 1234567 not valid with " + ALL_TOKEN.encode())
    )
    err = await _raises(
        client.check_credentials(),
        SpectronicsExtensionError,
        f"extension 1234567 not valid with {REDACTED}",
    )
    assert str(err.__cause__) == str(err)


async def test_empty_token_not_redacted(
    session: aiohttp.ClientSession, simulator: Simulator
) -> None:
    """An empty token redacts nothing (rather than every gap between letters)."""
    client = SpectronicsClient(session, "", EXTENSION, simulator.url)
    simulator.set_fault(Fault(body=b"OK:Call request sent"))
    result = await client.place_call(CallRequest(destination="100"))
    assert result.message == "Call request sent"
    assert simulator.requests[-1].fields["auth"] == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dinner", "Dinner"),
        ("  two   spaces\tand\ttabs\n", "two spaces and tabs"),
        ("a\x00b\x1bc\u200bd\u2028e", "a b c d e"),
        ("x" * 41, "x" * 40),
        ("1234567890 " * 4 + "end", "1234567890 1234567890 1234567890"),
        ("1234567890" * 4 + " next", "1234567890" * 4),
        (
            "ALARM: KITCHEN SMOKE " + "detected " * 3,
            "ALARM: KITCHEN SMOKE detected detected",
        ),
        ("🔥" * 50, "🔥" * 40),
        ("\x00\x01\t ", ""),
    ],
)
def test_fit_cidname(text: str, expected: str) -> None:
    """Control characters and whitespace runs become one space; cut at a word."""
    assert fit_cidname(text) == expected


@given(st.text(max_size=200))
def test_fit_cidname_always_gives_a_valid_caller_name(text: str) -> None:
    """Whatever the text, the result passes the caller name's own validator."""
    name = fit_cidname(text)
    assert validate_cidname(name) == name
    assert fit_cidname(name) == name
    words = " ".join(text.split()).split(" ")
    if name and len(name) < MAX_CIDNAME_LENGTH:
        # Cut only at a boundary: the name is whole leading words of the cleaned text.
        assert fit_cidname(" ".join(words)).startswith(name)
