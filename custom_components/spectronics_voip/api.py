"""Asynchronous client for the Spectronics VoIP outgoing-calls API 0.9.3."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
import re
from typing import ClassVar, Final
from urllib.parse import quote_plus

import aiohttp

DEFAULT_URL: Final = "http://voip.spectronics.co.uk/api/0.9.3/call"
REQUEST_TIMEOUT: Final = 20.0
WAIT_TIMEOUT: Final = 120.0
MAX_REPLY_BYTES: Final = 64 * 1024
MAX_NUMBER_LENGTH: Final = 32
MAX_CIDNAME_LENGTH: Final = 40

EXTENSION_PATTERN: Final = re.compile(r"[0-9]{7}")
NUMBER_PATTERN: Final = re.compile(r"\+?[0-9*#]+")
_NUMBER_SEPARATORS: Final = str.maketrans("", "", " -.()")
_AUTH_WORDS: Final = re.compile(r"authenticat|\btoken|credential", re.IGNORECASE)
_EXTENSION_WORDS: Final = re.compile(r"extension", re.IGNORECASE)
_WHITESPACE_RUN: Final = re.compile(r"\s+")
_HEADERS: Final = {"Accept": "text/plain"}
_FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"


class SpectronicsError(Exception):
    """Base error of the client; `category` names it in events."""

    category: ClassVar[str] = "unknown"


class SpectronicsValidationError(SpectronicsError, ValueError):
    """A call parameter is malformed; raised before any request."""

    category = "validation"

    def __init__(self, field: str, reason: str) -> None:
        """Name the field and why it is refused."""
        super().__init__(f"{field}: {reason}")
        self.field = field


class SpectronicsConnectionError(SpectronicsError):
    """The provider could not be reached."""

    category = "connection"


class SpectronicsConnectError(SpectronicsConnectionError):
    """No connection could be made (refused, DNS failure, unreachable): nothing was sent."""


class SpectronicsTimeoutError(SpectronicsError):
    """The provider did not answer in time."""

    category = "timeout"


class SpectronicsResponseError(SpectronicsError):
    """The reply was not the documented `OK:`/`ERR:` line."""

    category = "invalid_response"


class SpectronicsApiError(SpectronicsError):
    """The provider answered `ERR:`; the message is the provider's text."""

    category = "api"


class SpectronicsAuthError(SpectronicsApiError):
    """The provider refused the token."""

    category = "auth"


class SpectronicsExtensionError(SpectronicsApiError):
    """The provider refused the extension."""


def normalize_number(field: str, value: str) -> str:
    """Return a dialable number without separators, or raise."""
    number = value.translate(_NUMBER_SEPARATORS)
    if not NUMBER_PATTERN.fullmatch(number):
        raise SpectronicsValidationError(field, "digits, +, * and # only")
    if len(number) > MAX_NUMBER_LENGTH:
        raise SpectronicsValidationError(field, "longer than 32 characters")
    return number


def validate_extension(value: str) -> str:
    """Return the extension when it is exactly 7 digits, or raise."""
    if not EXTENSION_PATTERN.fullmatch(value):
        raise SpectronicsValidationError("extension", "not exactly 7 digits")
    return value


def validate_cidname(value: str) -> str:
    """Return a printable caller name of at most 40 characters, or raise."""
    if not value.isprintable():
        raise SpectronicsValidationError("cidname", "contains control characters")
    if len(value) > MAX_CIDNAME_LENGTH:
        raise SpectronicsValidationError("cidname", "longer than 40 characters")
    return value


def fit_cidname(text: str) -> str:
    """Return text as a caller name: printable, single-spaced, cut at a word boundary."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    name = _WHITESPACE_RUN.sub(" ", printable).strip()
    if len(name) <= MAX_CIDNAME_LENGTH:
        return name
    head = name[: MAX_CIDNAME_LENGTH + 1]
    if " " not in head:
        return name[:MAX_CIDNAME_LENGTH]
    return head.rsplit(" ", 1)[0].rstrip()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRequest:
    """One call, validated and normalized on creation."""

    destination: str
    extension: str | None = None
    cidname: str | None = None
    reverse: bool = False
    source: str | None = None
    wait: bool = False

    def __post_init__(self) -> None:
        """Validate every field; empty optional fields become None."""
        set_field = object.__setattr__
        set_field(
            self, "destination", normalize_number("destination", self.destination)
        )
        if self.source:
            set_field(self, "source", normalize_number("source", self.source))
        else:
            set_field(self, "source", None)
        if self.extension:
            validate_extension(self.extension)
        else:
            set_field(self, "extension", None)
        if self.cidname:
            validate_cidname(self.cidname)
        else:
            set_field(self, "cidname", None)

    @property
    def rings_first(self) -> str | None:
        """Return the phone the provider rings first (None: the account's extension).

        The source when there is one; with reverse, the destination; else the
        extension. `wait` reports this phone's answer (with reverse, both legs').
        """
        if self.source:
            return self.source
        if self.reverse:
            return self.destination
        return self.extension

    def form(self) -> dict[str, str]:
        """Return the documented form fields of this call, without `auth`."""
        form = {"extension": self.extension, "destination": self.destination}
        form["cidname"] = self.cidname
        form["reverse"] = "1" if self.reverse else "0"
        form["source"] = self.source
        form["wait"] = "1" if self.wait else "0"
        return {key: value for key, value in form.items() if value}


@dataclass(frozen=True, slots=True)
class CallReply:
    """The provider's reply to a call it accepted (`OK:`): its message."""

    request: CallRequest
    message: str


class SpectronicsClient:
    """Places calls through one extension of a Spectronics account."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        extension: str,
        url: str = DEFAULT_URL,
        *,
        request_timeout: float = REQUEST_TIMEOUT,
        wait_timeout: float = WAIT_TIMEOUT,
    ) -> None:
        """Keep the session and the account; nothing is sent yet."""
        self._session = session
        self._token = token
        self._auth_field = f"auth={quote_plus(token)}"
        self.extension = validate_extension(extension)
        self.url = url
        self.request_timeout = request_timeout
        self.wait_timeout = wait_timeout

    def __repr__(self) -> str:
        """Describe the client without its token."""
        return f"SpectronicsClient(url={self.url!r}, extension={self.extension!r})"

    async def place_call(
        self, request: CallRequest, *, wait_timeout: float | None = None
    ) -> CallReply:
        """Place one call; return the provider's OK or raise a typed error."""
        if request.extension is None:
            request = replace(request, extension=self.extension)
        timeout = self.request_timeout
        if request.wait:
            timeout = self.wait_timeout if wait_timeout is None else wait_timeout
        message = await self._post(request.form(), timeout)
        return CallReply(request, message)

    async def check_credentials(self) -> None:
        """Check the token and extension without a destination, so nothing rings."""
        try:
            await self._post({"extension": self.extension}, self.request_timeout)
        except SpectronicsAuthError:
            raise
        except SpectronicsApiError as err:
            if _EXTENSION_WORDS.search(str(err)):
                raise SpectronicsExtensionError(str(err)) from err

    async def _post(self, fields: dict[str, str], timeout: float) -> str:
        """POST the form and return the text of an `OK:` reply."""
        body = self._encode_form(fields)
        try:
            async with (
                asyncio.timeout(timeout),
                self._session.post(
                    self.url, data=body, headers=_HEADERS, allow_redirects=False
                ) as response,
            ):
                status = response.status
                reply = await _read_bounded(response.content)
        except TimeoutError as err:
            raise SpectronicsTimeoutError(f"no reply within {timeout:g} s") from err
        except aiohttp.ClientSSLError as err:
            # Nothing was sent either, but trying again would meet the same certificate.
            raise SpectronicsConnectionError(self._redact(str(err))) from err
        except aiohttp.ClientConnectorError as err:
            raise SpectronicsConnectError(self._redact(str(err))) from err
        except aiohttp.ClientError as err:
            raise SpectronicsConnectionError(
                self._redact(str(err) or type(err).__name__)
            ) from err
        return self._parse(status, reply)

    def _encode_form(self, fields: dict[str, str]) -> aiohttp.BytesPayload:
        """Return `auth` and the fields urlencoded, byte for byte as aiohttp would."""
        # A dict would cost aiohttp a payload-registry lookup and a FormData on every
        # request, most of the client's own time (see benchmarks/). The field names
        # are plain words; the token is encoded once, in __init__.
        encoded = [f"{name}={quote_plus(value)}" for name, value in fields.items()]
        body = "&".join([self._auth_field, *encoded]).encode()
        return aiohttp.BytesPayload(body, content_type=_FORM_CONTENT_TYPE)

    def _parse(self, http_status: int, body: bytes) -> str:
        """Return the message of an `OK:` reply; raise for anything else."""
        status, message = _split_reply(body)
        message = self._redact(message)
        if status == "ERR":
            # The provider's answer whatever the HTTP status: it does not document those.
            if _AUTH_WORDS.search(message):
                raise SpectronicsAuthError(message)
            raise SpectronicsApiError(message)
        if not 200 <= http_status < 300:
            raise SpectronicsResponseError(f"unexpected HTTP status {http_status}")
        if status is None:
            raise SpectronicsResponseError(message)
        return message

    def _redact(self, text: str) -> str:
        """Hide the token should a reply or error echo it."""
        return text.replace(self._token, "**REDACTED**") if self._token else text


def _split_reply(body: bytes) -> tuple[str | None, str]:
    """Return ("OK" or "ERR", message) of the reply's first line, or (None, the fault)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "reply is not UTF-8 text"
    lines = text.strip().splitlines()
    status, colon, message = (lines[0] if lines else "").partition(":")
    status = status.strip().upper()
    if not colon or status not in ("OK", "ERR"):
        return None, "reply is not an OK: or ERR: line"
    return status, message.strip()


async def _read_bounded(content: aiohttp.StreamReader) -> bytes:
    """Read the whole reply, refusing one larger than MAX_REPLY_BYTES."""
    body = bytearray()
    async for chunk in content.iter_any():
        body += chunk
        if len(body) > MAX_REPLY_BYTES:
            raise SpectronicsResponseError("reply larger than 64 KiB")
    return bytes(body)
