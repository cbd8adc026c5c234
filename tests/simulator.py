"""A faithful simulator of the Spectronics VoIP outgoing-calls API 0.9.3.

It serves the one documented endpoint over real HTTP on loopback, for the tests and
for `scripts/develop`. What the provider documents, it models:

- POST with form fields, or GET with the same fields in the query string;
- tokens valid for all extensions (the 7-digit extension is then mandatory) and tokens
  for one extension (any extension sent is ignored);
- a call's two legs in the documented order: the extension first, then the
  destination (default); the destination first, then the extension (`reverse=1`);
  the source first, then the destination (`source`). `wait=1` reports the first
  leg's answer (with `reverse=1` both legs must answer): the reply comes after
  `ring_time` seconds per leg rung. The destination of the default order is never
  what `wait` reports: it is dialled only once the extension answers;
- which phones reject or never answer: `phones` maps a number or extension to
  "answer", "reject" or "timeout"; any other number ending in 486 rejects, in 408
  rings out, and the rest answer. `rung_first` records each call's first leg;
- a one-line reply, `OK:<text>` or `ERR:<text>`.

What the provider leaves undocumented (exact ERR texts, status codes) is chosen to be
plausible: ERR replies come with HTTP 200. Every request is recorded; `calls` holds
only those that would ring a phone. Faults replace the modelled reply, see `Fault`.

Standalone: python -m tests.simulator --port 8090
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterable, Mapping
import contextlib
from dataclasses import dataclass, field
import logging
import re
import shlex
import ssl
import time
from typing import Final, Literal

from aiohttp import web

type Answer = Literal["answer", "reject", "timeout"]
# The phone rung first and the one dialled once it answered (None: it did not answer).
type Legs = tuple[str, str | None]

PATH: Final = "/api/0.9.3/call"
ALL_TOKEN: Final = "sim-all-3c9f27d1e8"
SINGLE_TOKEN: Final = "sim-one-b04e6a5f71"
EXTENSION: Final = "1234567"
OTHER_EXTENSION: Final = "7654321"
DEV_TOKEN: Final = "simulator-token"
DEV_SINGLE_TOKEN: Final = "simulator-single"

_EXTENSION: Final = re.compile(r"[0-9]{7}")
_NUMBER: Final = re.compile(r"\+?[0-9*#]{1,32}")
_FLAG: Final = ("0", "1")
_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the simulator received it."""

    method: str
    path: str
    content_type: str
    query: dict[str, str]
    fields: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """A misbehaviour that replaces the modelled reply.

    delay: seconds before anything is sent (a slow provider).
    status, body, headers: the reply to send instead of the model's.
    size: stream this many bytes of body (`body` repeated) instead.
    byte_delay: send the body one byte at a time, this many seconds apart.
    reset: "before" drops the connection without a reply, "during" after part of it.
    then_model: after `delay`, answer with the modelled reply (a slow success).
    """

    delay: float = 0.0
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    size: int = 0
    byte_delay: float = 0.0
    reset: str | None = None
    then_model: bool = False


FAULTS: Final[dict[str, Fault]] = {
    "http500": Fault(status=500, body=b"Internal Server Error"),
    "http503": Fault(status=503, body=b"Service Unavailable"),
    "html": Fault(
        body=b"<!DOCTYPE html><html><head><title>Login</title></head>"
        b"<body><form>Please log in</form></body></html>",
        headers={"Content-Type": "text/html"},
    ),
    "json": Fault(
        body=b'{"status": "ok"}', headers={"Content-Type": "application/json"}
    ),
    "empty": Fault(body=b""),
    "garbage": Fault(body=bytes(range(0x80, 0x100)) * 4),
    "oversized": Fault(body=b"OK:" + b"x" * (65 * 1024)),
    "huge": Fault(body=b"x" * 65536, size=20 * 1024 * 1024),
    "redirect": Fault(status=302, headers={"Location": "http://127.0.0.1:9/"}),
    "slow": Fault(delay=60.0, then_model=True),
    "dribble": Fault(body=b"OK:Call request sent", byte_delay=1.0),
    "reset": Fault(reset="during", body=b"OK:Call req"),
    "drop": Fault(reset="before"),
}


class Simulator:
    """The outgoing-calls API, served by aiohttp on 127.0.0.1."""

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (ALL_TOKEN,),
        single: Mapping[str, str] | None = None,
        extensions: Iterable[str] = (EXTENSION, OTHER_EXTENSION),
        ring_time: float = 0.05,
        phones: Mapping[str, Answer] | None = None,
    ) -> None:
        """Model an account; call `start` to serve it."""
        self.tokens = set(tokens)
        self.single = dict(
            {SINGLE_TOKEN: OTHER_EXTENSION} if single is None else single
        )
        self.extensions = set(extensions)
        self.ring_time = ring_time
        self.phones: dict[str, Answer] = dict(phones or {})
        self.fault: Fault | None = None
        self.requests: list[RecordedRequest] = []
        self.calls: list[dict[str, str]] = []
        # The phone each call rang first, in the order the calls came.
        self.rung_first: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[object]] = set()
        self.port = 0
        self.scheme = "http"
        # Told about each request the model answers, with the reply and the legs
        # rung (None for a refused request), once it is sent.
        self.on_reply: Callable[[RecordedRequest, str, Legs | None], None] | None = None

    @property
    def url(self) -> str:
        """The endpoint's URL."""
        return f"{self.scheme}://127.0.0.1:{self.port}{PATH}"

    def set_fault(self, fault: str | Fault | None) -> None:
        """Apply a named or custom fault to every following request."""
        self.fault = FAULTS[fault] if isinstance(fault, str) else fault

    async def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Serve on host:port (port 0 picks a free one), over TLS with ssl_context."""
        self.scheme = "http" if ssl_context is None else "https"
        app = web.Application()
        app.router.add_route("*", PATH, self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=ssl_context)
        await site.start()
        server = site._server  # noqa: SLF001 - the only way to learn port 0's choice
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving and close every connection."""
        # A handler whose client left (it timed out) is no longer tied to a
        # connection, so the runner's cleanup would not end it: cancel it here.
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Record the request, then answer with a fault or the model."""
        body = await request.read()
        fields = dict(request.query)
        if request.method == "POST":
            fields.update((k, str(v)) for k, v in (await request.post()).items())
        recorded = RecordedRequest(
            request.method,
            request.path,
            request.content_type,
            dict(request.query),
            fields,
            body,
        )
        self.requests.append(recorded)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            fault = self.fault
            if fault is None:
                reply, legs = await self._model(fields)
                if self.on_reply is not None:
                    self.on_reply(recorded, reply, legs)
                return web.Response(text=reply)
            return await self._fault(request, fault, fields)
        finally:
            self.in_flight -= 1
            self._handlers.discard(task)

    async def _model(self, fields: Mapping[str, str]) -> tuple[str, Legs | None]:
        """Answer as documented (one OK: or ERR: line); say which legs it rang."""
        if refusal := self._check(fields):
            return refusal, None
        self.calls.append(dict(fields))
        first, then = self.legs(fields)
        self.rung_first.append(first)
        reply = await self._ring(fields, (first, then))
        if reply.startswith("ERR:") and self.phone_answer(first) != "answer":
            return reply, (first, None)  # the second leg was never dialled
        return reply, (first, then)

    async def _ring(self, fields: Mapping[str, str], legs: tuple[str, str]) -> str:
        """Return the reply: at once without `wait`, else once the legs answered."""
        if fields.get("wait") != "1":
            return "OK:Call request sent"
        # `wait` reports the extension's answer: in the default order the extension
        # is the first leg and the destination is never waited for; with reverse=1
        # the destination rings first and then the extension, so both must answer.
        waited = legs if fields.get("reverse") == "1" else legs[:1]
        for phone in waited:
            await asyncio.sleep(self.ring_time)
            answer = self.phone_answer(phone)
            if answer == "reject":
                return "ERR:Call rejected"
            if answer == "timeout":
                return "ERR:Call timed out"
        return "OK:Call answered"

    def legs(self, fields: Mapping[str, str]) -> tuple[str, str]:
        """Return the phone rung first and the one rung once it answers."""
        extension = self.single.get(fields["auth"]) or fields["extension"]
        destination = fields["destination"]
        if source := fields.get("source"):
            return source, destination
        if fields.get("reverse") == "1":
            return destination, extension
        return extension, destination

    def phone_answer(self, phone: str) -> Answer:
        """Return what a phone does when it rings."""
        if (answer := self.phones.get(phone)) is not None:
            return answer
        if phone.endswith("486"):
            return "reject"
        if phone.endswith("408"):
            return "timeout"
        return "answer"

    def _check(self, fields: Mapping[str, str]) -> str | None:
        """Return the ERR line for a refused request, or None."""
        token = fields.get("auth", "")
        if token not in self.tokens and token not in self.single:
            return "ERR:Invalid authentication"
        if token in self.tokens:
            extension = fields.get("extension", "")
            if not _EXTENSION.fullmatch(extension) or extension not in self.extensions:
                return "ERR:Invalid extension"
        destination = fields.get("destination")
        if not destination:
            return "ERR:No destination specified"
        if not _NUMBER.fullmatch(destination):
            return "ERR:Invalid destination"
        if "source" in fields and not _NUMBER.fullmatch(fields["source"]):
            return "ERR:Invalid source"
        if any(fields.get(flag, "0") not in _FLAG for flag in ("reverse", "wait")):
            return "ERR:Invalid parameter"
        return None

    async def _fault(
        self, request: web.Request, fault: Fault, fields: Mapping[str, str]
    ) -> web.StreamResponse:
        """Misbehave as the fault says."""
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.then_model:
            reply, _ = await self._model(fields)
            return web.Response(text=reply)
        transport = request.transport
        if fault.reset == "before":
            assert transport is not None
            transport.abort()
            return web.Response()
        response = web.StreamResponse(status=fault.status, headers=fault.headers)
        if fault.reset == "during":
            response.content_length = len(fault.body) + 100
        elif fault.size:
            response.content_length = fault.size
        else:
            response.content_length = len(fault.body)
        try:
            await response.prepare(request)
            await self._write_body(response, fault)
            if fault.reset == "during":
                assert transport is not None
                transport.abort()
                return response
            await response.write_eof()
        except ConnectionError:
            _LOGGER.debug("Client went away mid-reply")
        return response

    @staticmethod
    async def _write_body(response: web.StreamResponse, fault: Fault) -> None:
        """Send the fault's body: whole, repeated up to `size`, or dribbled."""
        if fault.byte_delay:
            for byte in fault.body:
                await response.write(bytes([byte]))
                await asyncio.sleep(fault.byte_delay)
            return
        if not fault.size:
            await response.write(fault.body)
            return
        sent = 0
        while sent < fault.size:
            chunk = fault.body[: fault.size - sent]
            await response.write(chunk)
            sent += len(chunk)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the standalone options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--token",
        action="append",
        help=f"a token valid for all extensions (default {DEV_TOKEN})",
    )
    parser.add_argument(
        "--single",
        action="append",
        metavar="TOKEN=EXTENSION",
        help=f"a token for one extension (default {DEV_SINGLE_TOKEN}={OTHER_EXTENSION})",
    )
    parser.add_argument(
        "--extension",
        action="append",
        help=f"an extension of the account (default {EXTENSION} and {OTHER_EXTENSION})",
    )
    parser.add_argument("--ring-time", type=float, default=3.0)
    for answer, what in (
        ("answer", "answers"),
        ("reject", "rejects every call"),
        ("timeout", "never answers (rings out)"),
    ):
        parser.add_argument(
            f"--{answer}s" if answer != "timeout" else "--never-answers",
            action="append",
            default=[],
            metavar="NUMBER",
            dest=answer,
            help=f"a number or extension that {what}"
            + (
                " (default: numbers ending in 486 reject, in 408 ring out)"
                if answer == "reject"
                else ""
            ),
        )
    return parser.parse_args(argv)


# The order the standalone simulator shows a request's fields in; `auth` never.
_SHOWN: Final[tuple[str, ...]] = (
    "extension",
    "destination",
    "source",
    "cidname",
    "reverse",
    "wait",
)


def describe(recorded: RecordedRequest, reply: str, legs: Legs | None = None) -> str:
    """Return one line for a request, the phones it rang and its reply, no token."""
    shown = [key for key in _SHOWN if key in recorded.fields]
    shown += sorted(set(recorded.fields) - {*_SHOWN, "auth"})
    parts = [f"{key}={shlex.quote(recorded.fields[key])}" for key in shown]
    line = " ".join([recorded.method, *parts, "=>", reply])
    if legs is not None:
        first, then = legs
        if then is None:
            return f"{line} (rang {first} first; it did not answer, nothing else rang)"
        return f"{line} (rang {first} first, then {then})"
    if recorded.fields.get("destination"):
        return line
    # No destination: the integration checking the credentials, which rings nothing.
    if reply == "ERR:No destination specified":
        return f"{line} (a credentials check: accepted, nothing rang)"
    return f"{line} (a credentials check: refused)"


def _print_reply(recorded: RecordedRequest, reply: str, legs: Legs | None) -> None:
    """Print a request, the phones it rang and its reply on one line."""
    stamp = time.strftime("%H:%M:%S")
    line = describe(recorded, reply, legs)
    print(f"[simulator] {stamp} {line}", flush=True)  # noqa: T201


async def _serve(args: argparse.Namespace) -> None:
    """Run until interrupted, printing each request and its reply without the token."""
    single = dict(
        item.split("=", 1)
        for item in args.single or [f"{DEV_SINGLE_TOKEN}={OTHER_EXTENSION}"]
    )
    simulator = Simulator(
        tokens=args.token or [DEV_TOKEN],
        single=single,
        extensions=args.extension or [EXTENSION, OTHER_EXTENSION],
        ring_time=args.ring_time,
        phones={
            number: answer
            for answer in ("answer", "reject", "timeout")
            for number in getattr(args, answer)
        },
    )
    simulator.on_reply = _print_reply
    await simulator.start(args.host, args.port)
    print(  # noqa: T201
        f"[simulator] Spectronics API simulator on"
        f" http://{args.host}:{simulator.port}{PATH}: one line per request"
        " and its reply (OK:... accepted, ERR:... refused); tokens are never shown",
        flush=True,
    )
    for answer, how in (
        ("answer", "answer at once"),
        ("reject", "reject every call"),
        ("timeout", "never answer (a call waiting for them times out)"),
    ):
        if numbers := getattr(args, answer):
            print(  # noqa: T201
                f"[simulator] These phones {how}: {', '.join(numbers)}", flush=True
            )
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the simulator standalone."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
