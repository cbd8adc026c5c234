"""The fault matrix: every way the network or the provider can fail, through the action.

Each fault goes over real HTTP (or a real socket) on loopback. For each one the action
raises a translated error, or returns the documented result; exactly one result event
fires, with the right `error`; nothing is logged with a traceback; the event loop stays
responsive; and the next normal call works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
import contextlib
from dataclasses import dataclass
import datetime as dt
import ipaddress
import logging
from pathlib import Path
import select
import socket
import ssl
import threading
from typing import Any
from unittest.mock import patch

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.spectronics_voip.const import (
    CONF_WAIT_TIMEOUT,
    DOMAIN,
    EVENT_CALL_RESULT,
)
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .common import call_result, free_port, place_call, translated
from .known_secrets import exception_texts
from .reliability import LoopLagProbe, assert_clean_log, frozen_heap
from .simulator import ALL_TOKEN, PATH, Fault, Simulator

DESTINATION = "+442079460000"
# Short enough that a fault costs the suite half a second, long enough for loopback.
SHORT_TIMEOUT = 0.5
# Sampled every 20 ms during a call, the loop is never late by more than this: a
# loaded machine stalls it briefly, a blocking call for as long as it blocks.
MAX_LOOP_LAG = 0.25


@pytest.fixture(autouse=True)
def _frozen_heap() -> Generator[None]:
    """Measure the loop without pauses to collect the test process's own heap."""
    with frozen_heap():
        yield


@dataclass
class Stage:
    """What an arrangement may change; its exit stack undoes each change."""

    hass: HomeAssistant
    entry: MockConfigEntry
    simulator: Simulator
    stack: contextlib.AsyncExitStack

    def point_at(self, url: str) -> None:
        """Send the entry's calls to another URL until restored."""
        client = self.entry.runtime_data.client
        self.stack.callback(setattr, client, "url", client.url)
        client.url = url

    def short_timeouts(self) -> None:
        """Give up on a reply after SHORT_TIMEOUT instead of 20 s / 120 s."""
        client = self.entry.runtime_data.client
        self.stack.callback(setattr, client, "request_timeout", client.request_timeout)
        client.request_timeout = SHORT_TIMEOUT
        options = self.entry.options
        self.hass.config_entries.async_update_entry(
            self.entry, options={**options, CONF_WAIT_TIMEOUT: SHORT_TIMEOUT}
        )
        self.stack.callback(
            self.hass.config_entries.async_update_entry, self.entry, options=options
        )

    def fault(self, fault: str | Fault) -> None:
        """Apply a simulator fault until restored."""
        self.simulator.set_fault(fault)
        self.stack.callback(self.simulator.set_fault, None)


type Arrange = Callable[[Stage], Awaitable[dict[str, Any]]]


async def _run_fault(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
    arrange: Arrange,
    *,
    sent: int = 1,
) -> tuple[HomeAssistantError | None, ServiceResponse, list[dict[str, Any]]]:
    """Arrange a fault, place one call, restore, and check the next call works.

    sent: how many requests the simulator gets for the call (0 when the fault sends
    the call elsewhere): one at most, as nothing is ever retried.
    Returns the error raised (or None), the response, and the events of the call.
    """
    caplog.set_level(logging.DEBUG)
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    err: HomeAssistantError | None = None
    response: ServiceResponse = None
    async with contextlib.AsyncExitStack() as stack:
        stage = Stage(hass, entry, simulator, stack)
        data = {"destination": DESTINATION} | await arrange(stage)
        await hass.async_block_till_done()
        before = len(simulator.requests)
        async with LoopLagProbe() as probe:
            try:
                response = await place_call(hass, data, return_response=True)
            except HomeAssistantError as caught:
                err = caught
            async with asyncio.timeout(5):  # fail, not hang, if it never settles
                await hass.async_block_till_done()
        fault_events = [call_result(event) for event in events]
        fault_requests = simulator.requests[before:]

    # Home Assistant stayed responsive, and logged no traceback.
    assert probe.samples > 0
    assert probe.max_lag < MAX_LOOP_LAG
    assert_clean_log(caplog)
    # Sent once at most, never retried; exactly one result for the one call.
    assert len(fault_requests) == sent
    assert len(fault_events) == 1
    assert fault_events[0]["destination"] == DESTINATION
    if err is not None:
        assert not isinstance(err, ServiceValidationError)
        assert err.translation_domain == DOMAIN
        assert err.translation_key is not None
        assert err.translation_placeholders is not None
        assert str(err) == translated(err.translation_key, err.translation_placeholders)
        assert fault_events[0]["success"] is False
        assert err.translation_key == f"call_failed_{fault_events[0]['error']}"
        assert all(ALL_TOKEN not in text for text in exception_texts(err))

    # The next normal call works.
    events.clear()
    recovered = await place_call(
        hass, {"destination": DESTINATION}, return_response=True
    )
    assert recovered is not None
    assert recovered["success"] is True
    await hass.async_block_till_done()
    assert [event.data["success"] for event in events] == [True]
    assert entry.state is ConfigEntryState.LOADED
    return err, response, fault_events


# ---------------------------------------------------------------------------
# Arrangements: one per fault
# ---------------------------------------------------------------------------


def _simulated(fault: str | Fault, *, short: bool = False, **data: Any) -> Arrange:
    """Return an arrangement that applies a simulator fault."""

    async def arrange(stage: Stage) -> dict[str, Any]:
        if short:
            stage.short_timeouts()
        stage.fault(fault)
        return data

    return arrange


def _reply(body: bytes, status: int = 200, **headers: str) -> Arrange:
    """Return an arrangement where the provider sends this reply."""
    return _simulated(Fault(status=status, body=body, headers=headers))


async def _refused(stage: Stage) -> dict[str, Any]:
    """Point the entry at a loopback port nothing listens on."""
    stage.point_at(f"http://127.0.0.1:{free_port()}{PATH}")
    return {}


async def _redirect_to_trap(stage: Stage, status: int) -> dict[str, Any]:
    """Redirect to a second simulator (the "Location host"), which must get nothing."""
    trap = Simulator()
    await trap.start()
    stage.stack.push_async_callback(trap.stop)
    stage.stack.callback(_assert_untouched, trap)
    stage.fault(Fault(status=status, headers={"Location": trap.url}))
    return {}


def _assert_untouched(trap: Simulator) -> None:
    """Assert the redirect target saw no request: the token never reached it."""
    assert trap.requests == []


def _redirect(status: int) -> Arrange:
    """Return an arrangement that redirects with this status."""

    async def arrange(stage: Stage) -> dict[str, Any]:
        return await _redirect_to_trap(stage, status)

    return arrange


# The body a server-side error page carries; never a call result.
ERROR_PAGE = b"<html><body><h1>Error</h1></body></html>"

FAILURES = [
    pytest.param(_refused, "connection", id="connection-refused"),
    pytest.param(_simulated("slow", short=True), "timeout", id="slow-reply-wait0"),
    pytest.param(
        _simulated("slow", short=True, wait=True), "timeout", id="slow-reply-wait1"
    ),
    pytest.param(_simulated("drop"), "connection", id="reset-before-reply"),
    pytest.param(_simulated("reset"), "connection", id="reset-mid-reply"),
    *(
        pytest.param(_redirect(status), "invalid_response", id=f"http{status}")
        for status in (301, 302, 303, 307, 308)
    ),
    *(
        pytest.param(
            _reply(ERROR_PAGE, status, **{"Content-Type": "text/html"}),
            "invalid_response",
            id=f"http{status}",
        )
        for status in (400, 401, 403, 404, 500, 502, 503)
    ),
    pytest.param(_simulated("empty"), "invalid_response", id="200-empty"),
    pytest.param(_simulated("html"), "invalid_response", id="200-html"),
    pytest.param(_simulated("json"), "invalid_response", id="200-json"),
    pytest.param(_simulated("garbage"), "invalid_response", id="200-binary"),
    pytest.param(_reply(b"OK:\xff\xfe sent"), "invalid_response", id="200-not-utf8"),
    pytest.param(_simulated("oversized"), "invalid_response", id="200-65KiB"),
    pytest.param(_simulated("huge"), "invalid_response", id="200-20MiB"),
    pytest.param(_simulated("dribble", short=True), "timeout", id="200-dribble"),
    pytest.param(_reply(b"OK"), "invalid_response", id="200-OK-no-colon"),
    pytest.param(_reply(b"Call request sent"), "invalid_response", id="200-no-status"),
    pytest.param(_reply(b"ERR:"), "api", id="ERR-empty-message"),
    pytest.param(_reply(b"ERR:Call rejected\r\n"), "api", id="ERR-crlf"),
    pytest.param(_reply(b"  err:call rejected  \r\n"), "api", id="ERR-lower-spaces"),
    pytest.param(
        _reply(b"ERR:No route to destination\r\nOK:Call request sent\r\n"),
        "api",
        id="ERR-two-lines",
    ),
]


@pytest.mark.parametrize(("arrange", "category"), FAILURES)
async def test_fault(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
    *,
    arrange: Arrange,
    category: str,
) -> None:
    """The call fails with a translated error and one event; the next one works."""
    err, _, events = await _run_fault(
        hass,
        init_integration,
        simulator,
        caplog,
        arrange,
        sent=0 if arrange is _refused else 1,
    )

    assert err is not None
    assert err.translation_key == f"call_failed_{category}"
    assert events[0]["error"] == category
    assert events[0]["message"] == err.translation_placeholders["message"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"  OK:Call request sent  \r\n", "Call request sent", id="spaces"),
        pytest.param(b"OK:Call request sent\r\n", "Call request sent", id="crlf"),
        pytest.param(b"ok:call request sent", "call request sent", id="lower-case"),
        pytest.param(b"OK:", "", id="empty-message"),
        pytest.param(
            b"OK:Call request sent\r\nid=42\r\n", "Call request sent", id="two-lines"
        ),
        pytest.param(
            b"\xef\xbb\xbfOK:Call request sent", "Call request sent", id="bom"
        ),
    ],
)
async def test_ok_variants(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
    *,
    body: bytes,
    message: str,
) -> None:
    """An `OK:` line, however padded or cased, is the documented success."""
    err, response, events = await _run_fault(
        hass, init_integration, simulator, caplog, _reply(body)
    )

    assert err is None
    assert response is not None
    assert response["success"] is True
    assert response["message"] == message
    assert events == [response]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(b" err:invalid authentication \r\n", 200, id="200-lower-padded"),
        pytest.param(b"ERR:Invalid authentication", 401, id="401-with-ERR-line"),
        pytest.param(b"ERR:Invalid authentication", 403, id="403-with-ERR-line"),
    ],
)
async def test_err_authentication_variant_starts_reauth(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
    *,
    body: bytes,
    status: int,
) -> None:
    """An authentication ERR, padded or with an error status, starts one reauth flow."""
    err, _, events = await _run_fault(
        hass, init_integration, simulator, caplog, _reply(body, status)
    )

    assert err is not None
    assert err.translation_key == "call_failed_auth"
    assert events[0]["error"] == "auth"
    flows = list(init_integration.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert len(flows) == 1


# ---------------------------------------------------------------------------
# Connect timeout: SYNs that are never answered
# ---------------------------------------------------------------------------


@pytest.fixture
def unanswered_address(socket_enabled: None) -> Generator[tuple[str, int]]:
    """Return a loopback address where a connect neither succeeds nor fails.

    Linux drops a SYN for a listening socket whose accept queue is full (backlog 0
    holds one connection), so the client's SYNs go unanswered until it gives up.
    Synchronous, so the blocking `select` runs before the test's event loop does.
    """
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address: tuple[str, int] = listener.getsockname()
        for _ in range(16):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(address)
            _, writable, _ = select.select([], [filler], [], 0.2)
            if not writable:  # this connect hangs: the queue is full
                break
        else:
            pytest.fail("could not fill the accept queue of the listener")
        yield address


async def test_connect_timeout(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
    unanswered_address: tuple[str, int],
) -> None:
    """A connect that hangs ends as a timeout after the request timeout."""

    async def arrange(stage: Stage) -> dict[str, Any]:
        stage.short_timeouts()
        stage.point_at(f"http://127.0.0.1:{unanswered_address[1]}{PATH}")
        return {}

    err, _, events = await _run_fault(
        hass, init_integration, simulator, caplog, arrange, sent=0
    )

    assert err is not None
    assert err.translation_key == "call_failed_timeout"
    assert events[0]["error"] == "timeout"
    assert events[0]["message"] == f"no reply within {SHORT_TIMEOUT:g} s"


# ---------------------------------------------------------------------------
# DNS: an unresolvable host
# ---------------------------------------------------------------------------


class _Rfc6761Resolver(AbstractResolver):
    """Answer as a system resolver does: `.invalid` names never resolve (RFC 6761).

    Home Assistant's test plugin shares one aiodns resolver across tests, bound to
    another event loop, so a real lookup cannot run through it. This resolver fails
    the lookup the way getaddrinfo does, and aiohttp turns that into its DNS error.
    """

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Fail every name lookup with EAI_NONAME; pass IP addresses through."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise OSError(socket.EAI_NONAME, "Name or service not known") from None
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": family,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        """Nothing to release."""

    async def real_close(self) -> None:
        """Nothing to release (newer Home Assistant closes its resolver with this)."""


@pytest.fixture
def rfc6761_resolver() -> Generator[None]:
    """Give the Home Assistant session created in this test the RFC 6761 resolver."""
    with patch(
        "homeassistant.helpers.aiohttp_client._async_make_resolver",
        return_value=_Rfc6761Resolver(),
    ):
        yield


@pytest.mark.usefixtures("rfc6761_resolver")
async def test_dns_failure(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unresolvable host is a connection failure."""

    async def arrange(stage: Stage) -> dict[str, Any]:
        stage.point_at(f"http://spectronics.invalid{PATH}")
        return {}

    err, _, events = await _run_fault(
        hass, init_integration, simulator, caplog, arrange, sent=0
    )

    assert err is not None
    assert err.translation_key == "call_failed_connection"
    assert events[0]["error"] == "connection"
    assert isinstance(err.__cause__, Exception)
    assert isinstance(err.__cause__.__cause__, aiohttp.ClientConnectorDNSError)


# ---------------------------------------------------------------------------
# TLS: an invalid certificate
# ---------------------------------------------------------------------------


def _self_signed_context(folder: Path) -> ssl.SSLContext:
    """Return a server context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = folder / "cert.pem"
    key_file = folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
def tls_simulator(socket_enabled: None, tmp_path: Path) -> Generator[Simulator]:
    """Serve the simulator over https with a self-signed certificate, in a thread.

    Its own thread and event loop: when the client refuses the certificate, the
    server's side of the handshake fails too, and in the test loop's debug mode that
    would reach Home Assistant's loop exception handler, which fails the test.
    """
    context = _self_signed_context(tmp_path)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="tls-simulator")
    thread.start()
    tls = Simulator()
    try:
        asyncio.run_coroutine_threadsafe(tls.start(ssl_context=context), loop).result(
            10
        )
        yield tls
    finally:
        asyncio.run_coroutine_threadsafe(tls.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def test_invalid_certificate(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
    tls_simulator: Simulator,
) -> None:
    """An https URL whose server has a self-signed certificate: connection, no request."""
    assert tls_simulator.url.startswith("https://127.0.0.1:")

    async def arrange(stage: Stage) -> dict[str, Any]:
        stage.point_at(tls_simulator.url)
        return {}

    err, _, events = await _run_fault(
        hass, init_integration, simulator, caplog, arrange, sent=0
    )

    assert err is not None
    assert err.translation_key == "call_failed_connection"
    assert events[0]["error"] == "connection"
    assert isinstance(err.__cause__, Exception)
    assert isinstance(err.__cause__.__cause__, aiohttp.ClientConnectorCertificateError)
    # The handshake failed: the form, and the token in it, never went out.
    assert tls_simulator.requests == []


async def test_unexpected_error_still_reports(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """An error the client does not expect still fires the call's one result event.

    Seen for real: the 2025.4 test environment pairs aiodns 3.2 with pycares 5, and
    every DNS lookup through Home Assistant's resolver raises TypeError.
    """
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    bug = TypeError("Channel.getaddrinfo() takes 3 positional arguments")

    with (
        patch.object(
            init_integration.runtime_data.client, "place_call", side_effect=bug
        ),
        pytest.raises(TypeError),
    ):
        await place_call(hass, {"destination": DESTINATION}, return_response=True)
    await hass.async_block_till_done()

    assert [(e.data["success"], e.data["error"]) for e in events] == [
        (False, "unknown")
    ]
    assert simulator.requests[1:] == []
