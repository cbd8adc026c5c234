"""The account's one call API: every action, button, notify and escalation call."""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
import time
from typing import Any, Final, Self

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .api import (
    CallRequest,
    SpectronicsApiError,
    SpectronicsAuthError,
    SpectronicsClient,
    SpectronicsConnectError,
    SpectronicsConnectionError,
    SpectronicsError,
    SpectronicsResponseError,
    SpectronicsTimeoutError,
    SpectronicsValidationError,
)
from .const import (
    CANCELLED_MESSAGE,
    CONF_ALLOWED_NUMBERS,
    CONF_CIDNAME,
    CONF_CONNECT_TO,
    CONF_COOLDOWN,
    CONF_DESTINATION,
    CONF_EXTENSION,
    CONF_MAX_CONCURRENT_CALLS,
    CONF_REVERSE,
    CONF_RING_FIRST,
    CONF_SOURCE,
    CONF_WAIT,
    CONF_WAIT_TIMEOUT,
    DEFAULT_COOLDOWN,
    DEFAULT_MAX_CONCURRENT_CALLS,
    DOMAIN,
    ERROR_CANCELLED,
    ERROR_UNKNOWN,
    EVENT_ANSWERED,
    EVENT_CALL_RESULT,
    EVENT_FAILED,
    EVENT_REQUESTED,
    LOGGER,
    RETRY_DELAYS,
    RING_CONTACT_EXTENSION,
    RING_CONTACT_NUMBER,
    RING_MY_EXTENSION,
)

type SpectronicsConfigEntry = ConfigEntry[SpectronicsDialer]
type CallListener = Callable[[CallResult, Context], None]
# What makes two calls identical for the cooldown.
type CallKey = tuple[str, str | None, str | None, str | None, bool]

# The translation key of a call field that fails validation.
INVALID_FIELD_KEYS: Final = {
    CONF_DESTINATION: "invalid_destination",
    CONF_SOURCE: "invalid_source",
    CONF_EXTENSION: "invalid_extension",
    CONF_CIDNAME: "invalid_cidname",
}
# Results kept for diagnostics.
RECENT_CALLS: Final = 10
# Successful calls remembered for the cooldown before old ones are pruned.
_PRUNE_AFTER: Final = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class CallResult:
    """A call's result: its event, its response data and "Last call" show it."""

    config_entry_id: str
    contact: str | None = None
    ring_first: str | None = None
    extension: str
    destination: str
    source: str | None = None
    cidname: str | None = None
    reverse: bool = False
    wait: bool = False
    rings_first: str
    suppressed: bool = False
    success: bool = False
    message: str = ""
    error: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Return the result an event carries; one recorded by 0.1 lacks rings_first."""
        extension, destination = data.get("extension") or "", data["destination"]
        source, reverse = data.get("source"), bool(data.get("reverse"))
        rings_first = data.get("rings_first") or source
        if not rings_first:
            rings_first = destination if reverse else extension
        return cls(
            config_entry_id=data.get("config_entry_id", ""),
            contact=data.get("contact"),
            ring_first=data.get("ring_first"),
            extension=extension,
            destination=destination,
            source=source,
            cidname=data.get("cidname"),
            reverse=reverse,
            wait=bool(data.get("wait")),
            rings_first=rings_first,
            suppressed=bool(data.get("suppressed")),
            success=bool(data.get("success")),
            message=data.get("message", ""),
            error=data.get("error"),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the result as the event and the response data spell it."""
        return dict(zip(_RESULT_FIELDS, _result_values(self), strict=True))

    @property
    def event_type(self) -> str:
        """Return the "Last call" event type: requested, answered or failed."""
        if not self.success:
            return EVENT_FAILED
        return EVENT_ANSWERED if self.wait else EVENT_REQUESTED

    @property
    def second_leg(self) -> str:
        """Return the phone dialled once the one rung first answers."""
        if self.reverse and not self.source:
            return self.extension
        return self.destination


_RESULT_FIELDS: Final = tuple(field.name for field in fields(CallResult))
_result_values: Final = attrgetter(*_RESULT_FIELDS)


class CallFailedError(HomeAssistantError):
    """A call that failed, translated; `result` is what its event reported."""

    def __init__(self, translation_key: str, result: CallResult) -> None:
        """Translate the failure; keep the failed call's result."""
        super().__init__(
            translation_domain=DOMAIN,
            translation_key=translation_key,
            translation_placeholders={"message": result.message},
        )
        self.result = result


@dataclass(frozen=True, slots=True)
class Contact:
    """The contact a call is for: its name, its device, which phone rings first."""

    name: str
    device_id: str | None
    ring_first: str


@dataclass(frozen=True, slots=True)
class Escalation:
    """How call_until_answered ended: who answered, and every attempt's result."""

    success: bool
    answered_by: str | None
    attempts: list[CallResult]

    def as_dict(self) -> dict[str, Any]:
        """Return the escalation as the action's response data."""
        return {
            "success": self.success,
            "answered_by": self.answered_by,
            "attempts": [attempt.as_dict() for attempt in self.attempts],
        }


type Attempt = tuple[CallRequest, Contact | None]


def ring_first(subentry: ConfigSubentry) -> str:
    """Return which phone a contact's call rings first (RING_FIRST_OPTIONS)."""
    return str(subentry.data.get(CONF_RING_FIRST, RING_MY_EXTENSION))


def number_allowed(number: str, allowed: Sequence[str]) -> bool:
    """Return whether a number matches an allowed number or prefix (ending in *)."""
    return any(
        number.startswith(entry[:-1]) if entry.endswith("*") else number == entry
        for entry in allowed
    )


@dataclass(frozen=True, slots=True)
class _Success:
    """A call that succeeded: when, and whether it waited for (and got) the answer."""

    monotonic: float
    at: datetime
    answered: bool


class Cooldown:
    """Holds back a call identical to one that succeeded less than `seconds()` ago.

    A call that waits for the answer is held back only by one that was answered: an
    accepted request (wait off) says nothing about anyone picking up.
    """

    def __init__(self, seconds: Callable[[], float]) -> None:
        """Start with no call remembered."""
        self._seconds = seconds
        self._succeeded: OrderedDict[CallKey, _Success] = OrderedDict()
        self.in_flight: dict[CallKey, asyncio.Event] = {}

    def __len__(self) -> int:
        """Return how many successful calls it remembers."""
        return len(self._succeeded)

    async def async_held_back(self, key: CallKey, *, wait: bool) -> str | None:
        """Return why the call is not sent, or None; an identical one in flight first."""
        if not (cooldown := self._seconds()):
            return None
        while (in_flight := self.in_flight.get(key)) is not None:
            await in_flight.wait()
        sent = self._succeeded.get(key)
        if sent is None or not (sent.answered or not wait):
            return None
        age = time.monotonic() - sent.monotonic
        if age >= cooldown:
            return None
        what = "was answered" if sent.answered else "succeeded"
        return (
            f"not sent: an identical call {what} {age:.0f} s ago"
            f" (at {sent.at:%H:%M:%S}), within the {cooldown:g} s cooldown"
        )

    def sending(self, key: CallKey, *, answered: bool) -> AbstractContextManager[None]:
        """Hold identical calls while this one is sent; remember it if it succeeds."""
        if not self._seconds():
            return nullcontext()
        return _Sending(self, key, answered)

    def remember(self, key: CallKey, *, answered: bool) -> None:
        """Start the cooldown of a call that succeeded."""
        now = time.monotonic()
        succeeded = self._succeeded
        succeeded[key] = _Success(now, dt_util.now(), answered)
        # Oldest first, so that pruning visits only the calls it drops.
        succeeded.move_to_end(key)
        if len(succeeded) > _PRUNE_AFTER:
            cooldown = self._seconds()
            # Stops at the latest (0 s old) at the call just remembered.
            while now - next(iter(succeeded.values())).monotonic > cooldown:
                succeeded.popitem(last=False)


class _Sending:
    """A call in flight: identical calls wait; its success starts the cooldown."""

    def __init__(self, cooldown: Cooldown, key: CallKey, answered: bool) -> None:
        """Keep what the call is."""
        self._cooldown = cooldown
        self._key = key
        self._answered = answered
        self._done = asyncio.Event()

    def __enter__(self) -> None:
        """Make identical calls wait for this one."""
        self._cooldown.in_flight[self._key] = self._done

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        """Remember the call if it succeeded; let the identical calls go on."""
        if exc_type is None:
            self._cooldown.remember(self._key, answered=self._answered)
        del self._cooldown.in_flight[self._key]
        self._done.set()


class LineLimiter:
    """Lets at most `limit()` calls reach the provider at once; the rest wait in order."""

    def __init__(self, limit: Callable[[], int]) -> None:
        """Start with every line free."""
        self._limit = limit
        self.active = 0
        self._queue: deque[asyncio.Future[None]] = deque()

    @property
    def queued(self) -> int:
        """Return how many calls wait for a line."""
        return len(self._queue)

    async def __aenter__(self) -> None:
        """Wait for a free line."""
        if self.active < self._limit() and not self._queue:
            self.active += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # The line was given as the call was cancelled: pass it on.
                self.active -= 1
                self.wake()
            with suppress(ValueError):
                self._queue.remove(waiter)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        """Free the line for the next call waiting."""
        self.active -= 1
        self.wake()

    @callback
    def wake(self) -> None:
        """Start waiting calls the (possibly raised) limit allows."""
        while self._queue and self.active < self._limit():
            waiter = self._queue.popleft()
            if not waiter.done():
                self.active += 1
                waiter.set_result(None)


class SpectronicsDialer:
    """Places an account's calls: the rails in order, sending once, reporting once."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SpectronicsConfigEntry,
        client: SpectronicsClient,
        device_id: str,
    ) -> None:
        """Keep the account's client and device; nothing is sent yet."""
        self.hass = hass
        self.entry = entry
        self.client = client
        # The token, extension and URL the client was made with.
        self.entry_data: Mapping[str, Any] = entry.data
        self.device_id = device_id
        self.retry_delays: Sequence[float] = RETRY_DELAYS
        self.cooldown = Cooldown(
            lambda: float(entry.options.get(CONF_COOLDOWN, DEFAULT_COOLDOWN))
        )
        self.lines = LineLimiter(
            lambda: int(
                entry.options.get(
                    CONF_MAX_CONCURRENT_CALLS, DEFAULT_MAX_CONCURRENT_CALLS
                )
            )
        )
        # The account's "Last call" entity, while it is added.
        self.last_call_entity_id: str | None = None
        self.recent: deque[CallResult] = deque(maxlen=RECENT_CALLS)
        self.counts: Counter[str] = Counter()
        self._listeners: list[CallListener] = []

    def __repr__(self) -> str:
        """Describe the dialer by its client, which hides the token."""
        return f"SpectronicsDialer({self.client!r})"

    @callback
    def async_add_listener(self, listener: CallListener) -> CALLBACK_TYPE:
        """Call `listener` with every call's result and context; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_set_client(
        self, client: SpectronicsClient, entry_data: Mapping[str, Any]
    ) -> None:
        """Send the next calls with a new client; calls in flight finish on the old."""
        self.client = client
        self.entry_data = entry_data

    def request(self, data: Mapping[str, Any]) -> CallRequest:
        """Return a call from an action's fields, with the account's defaults.

        Raises ServiceValidationError for a malformed field, before anything is sent.
        """
        options = self.entry.options
        try:
            return CallRequest(
                destination=data[CONF_DESTINATION],
                extension=data.get(CONF_EXTENSION) or self.client.extension,
                cidname=data.get(CONF_CIDNAME, options.get(CONF_CIDNAME)),
                reverse=data.get(CONF_REVERSE, False),
                source=data.get(CONF_SOURCE),
                wait=data.get(CONF_WAIT, options.get(CONF_WAIT, False)),
            )
        except SpectronicsValidationError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=INVALID_FIELD_KEYS[err.field],
            ) from err

    def connect_to(self, data: Mapping[str, Any], extension: str | None = None) -> str:
        """Return what the phone rung first is connected to once it answers.

        The call's (or contact's) own connect_to, else the account's option, else the
        extension the call is placed from.
        """
        return str(
            data.get(CONF_CONNECT_TO)
            or self.entry.options.get(CONF_CONNECT_TO)
            or extension
            or self.client.extension
        )

    def contact_request(
        self, subentry: ConfigSubentry, cidname: str | None = None
    ) -> CallRequest:
        """Return a contact's call, with `cidname` instead of its own when given.

        my_extension: your extension rings first, then the contact's number (quick
        dial). contact_number: the contact's number rings first (as the source),
        then connect_to. contact_extension: the contact's extension rings first,
        then connect_to.
        """
        data = subentry.data
        number = data[CONF_DESTINATION]
        call: dict[str, Any] = {CONF_WAIT: data.get(CONF_WAIT, False)}
        if cidname := cidname or data.get(CONF_CIDNAME):
            call[CONF_CIDNAME] = cidname  # else the account's default applies
        kind = ring_first(subentry)
        if kind == RING_CONTACT_NUMBER:
            call |= {CONF_SOURCE: number, CONF_DESTINATION: self.connect_to(data)}
        elif kind == RING_CONTACT_EXTENSION:
            call |= {CONF_EXTENSION: number, CONF_DESTINATION: self.connect_to(data)}
        else:
            call |= {CONF_DESTINATION: number, CONF_EXTENSION: data.get(CONF_EXTENSION)}
        return self.request(call)

    def check_allowed(self, request: CallRequest) -> None:
        """Raise ServiceValidationError unless every number the call rings is allowed."""
        if not (allowed := self.entry.options.get(CONF_ALLOWED_NUMBERS)):
            return
        # The account's own extensions (the one calling, one connected to) always are.
        own = {request.extension, self.client.extension}
        for number in (request.destination, request.source):
            if number and number not in own and not number_allowed(number, allowed):
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="number_not_allowed",
                    translation_placeholders={"number": number},
                )

    async def async_call(
        self,
        request: CallRequest,
        *,
        contact: Contact | None = None,
        context: Context | None = None,
    ) -> CallResult:
        """Place one call through the rails, report it once, and return its result.

        Raises ServiceValidationError, before anything is sent, for a number the
        account does not allow, and CallFailedError when the call fails.
        """
        self.check_allowed(request)
        extension = request.extension or self.client.extension
        # The call's own part of its result; the outcome completes it.
        call: dict[str, Any] = {
            "config_entry_id": self.entry.entry_id,
            "contact": contact.name if contact else None,
            "ring_first": contact.ring_first if contact else None,
            "extension": extension,
            "destination": request.destination,
            "source": request.source,
            "cidname": request.cidname,
            "reverse": request.reverse,
            "wait": request.wait,
            "rings_first": request.rings_first or extension,
        }
        reported: list[CallResult] = []  # what a cancelled call reported
        # The entry owns the call: unloading the entry cancels it (it still reports).
        task = self.entry.async_create_background_task(
            self.hass,
            self._async_place(request, call, contact, context or Context(), reported),
            f"{DOMAIN} call",
        )
        try:
            # A caller that stops waiting does not cancel a call that may be ringing.
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            raise CallFailedError("call_failed_cancelled", reported[0]) from None

    async def _async_place(
        self,
        request: CallRequest,
        call: dict[str, Any],
        contact: Contact | None,
        context: Context,
        reported: list[CallResult],
    ) -> CallResult:
        """Send the call past the cooldown and a free line; report it exactly once."""

        def report(**outcome: Any) -> CallResult:
            result = CallResult(**call, **outcome)
            reported.append(result)
            self._async_report(result, contact, context)
            return result

        def failed(translation_key: str, err: SpectronicsError) -> CallFailedError:
            result = report(message=str(err), error=err.category)
            return CallFailedError(translation_key, result)

        key: CallKey = (
            request.destination,
            request.source,
            request.extension,
            request.cidname,
            request.reverse,
        )
        try:
            if held_back := await self.cooldown.async_held_back(key, wait=request.wait):
                return report(success=True, suppressed=True, message=held_back)
            with self.cooldown.sending(key, answered=request.wait):
                async with self.lines:
                    delays = iter(self.retry_delays)
                    while True:
                        try:
                            reply = await self.client.place_call(
                                request,
                                wait_timeout=self.entry.options.get(CONF_WAIT_TIMEOUT),
                            )
                            break
                        except SpectronicsConnectError as err:
                            # Nothing was sent: trying again cannot ring twice.
                            if (delay := next(delays, None)) is None:
                                raise
                            LOGGER.debug(
                                "No connection to the API, nothing sent;"
                                " trying again in %g s: %s",
                                delay,
                                err,
                            )
                            await asyncio.sleep(delay)
        except SpectronicsAuthError as err:
            self.entry.async_start_reauth(self.hass)
            raise failed("call_failed_auth", err) from err
        except SpectronicsApiError as err:
            raise failed("call_failed_api", err) from err
        except SpectronicsTimeoutError as err:
            raise failed("call_failed_timeout", err) from err
        except SpectronicsResponseError as err:
            raise failed("call_failed_invalid_response", err) from err
        except SpectronicsConnectionError as err:
            raise failed("call_failed_connection", err) from err
        except asyncio.CancelledError:
            report(message=CANCELLED_MESSAGE, error=ERROR_CANCELLED)
            raise
        except Exception:
            report(message="unexpected error", error=ERROR_UNKNOWN)
            raise
        return report(success=True, message=reply.message)

    @callback
    def _async_report(
        self, result: CallResult, contact: Contact | None, context: Context
    ) -> None:
        """Log a call's result, fire its event and tell the listeners."""
        LOGGER.debug(
            "Call ringing %s first, then %s (contact %s, wait %s): %s, %s",
            result.rings_first,
            result.second_leg,
            result.contact,
            result.wait,
            result.error or "success",
            result.message,
        )
        self.recent.append(result)
        self.counts[
            result.error or ("suppressed" if result.suppressed else "success")
        ] += 1
        self.hass.bus.async_fire(
            EVENT_CALL_RESULT,
            # The logbook files it under "Last call" and the contact's device (else
            # the account's), not only in the unfiltered logbook.
            result.as_dict()
            | {
                ATTR_ENTITY_ID: self.last_call_entity_id,
                ATTR_DEVICE_ID: (contact and contact.device_id) or self.device_id,
            },
            context=context,
        )
        for listener in list(self._listeners):
            listener(result, context)

    async def async_escalate(
        self,
        attempts: Sequence[Attempt],
        *,
        rounds: int,
        delay: float,
        context: Context,
    ) -> Escalation:
        """Ring each attempt in turn, every round, until one answers.

        The entry owns the escalation: unloading the account ends it. A caller that
        stops waiting lets the attempt in flight finish, and starts no other.
        """
        stop = asyncio.Event()
        task = self.entry.async_create_background_task(
            self.hass,
            self._async_escalate(attempts, rounds, delay, context, stop),
            f"{DOMAIN} call_until_answered",
        )
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="call_failed_cancelled",
                    translation_placeholders={"message": CANCELLED_MESSAGE},
                ) from None
            # The caller stopped: no attempt starts after the one in flight.
            stop.set()
            task.add_done_callback(_discard_outcome)
            raise

    async def _async_escalate(
        self,
        attempts: Sequence[Attempt],
        rounds: int,
        delay: float,
        context: Context,
        stop: asyncio.Event,
    ) -> Escalation:
        """Ring the attempts until one answers, all rounds are rung or `stop` is set."""
        results: list[CallResult] = []
        for request, contact in list(attempts) * rounds:
            if results and delay:
                with suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await stop.wait()
            if stop.is_set():
                break
            try:
                result = await self.async_call(
                    request, contact=contact, context=context
                )
            except CallFailedError as err:
                if err.translation_key in ("call_failed_auth", "call_failed_cancelled"):
                    raise  # no further attempt could succeed
                results.append(err.result)
                continue
            results.append(result)
            # Whose phone answered: the contact's, or the number rung first.
            return Escalation(
                True, contact.name if contact else request.source, results
            )
        return Escalation(False, None, results)


def _discard_outcome(task: asyncio.Task[Escalation]) -> None:
    """Retrieve the outcome of an escalation whose caller left; it was reported."""
    with suppress(asyncio.CancelledError):  # an unload cancelled it
        task.exception()
