"""The one call path of an account: every action, button, notify and escalation."""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
import time
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID, Platform
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from .api import (
    CallRequest,
    CallResult,
    SpectronicsAuthError,
    SpectronicsClient,
    SpectronicsConnectError,
    SpectronicsError,
    SpectronicsValidationError,
)
from .const import (
    ATTR_CIDNAME,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_CONTACT,
    ATTR_DESTINATION,
    ATTR_ERROR,
    ATTR_EXTENSION,
    ATTR_MESSAGE,
    ATTR_REVERSE,
    ATTR_RING_FIRST,
    ATTR_RINGS_FIRST,
    ATTR_SOURCE,
    ATTR_SUCCESS,
    ATTR_SUPPRESSED,
    ATTR_WAIT,
    CANCELLED_MESSAGE,
    CONF_ALLOWED_NUMBERS,
    CONF_COOLDOWN,
    CONF_MAX_CONCURRENT_CALLS,
    CONF_RING_FIRST,
    CONF_WAIT_TIMEOUT,
    DEFAULT_COOLDOWN,
    DEFAULT_MAX_CONCURRENT_CALLS,
    DOMAIN,
    ERROR_CANCELLED,
    ERROR_UNKNOWN,
    EVENT_CALL_RESULT,
    LAST_CALL_KEY,
    LOGGER,
    RETRY_DELAYS,
    RING_MY_EXTENSION,
)

if TYPE_CHECKING:
    from . import SpectronicsConfigEntry

type CallListener = Callable[[dict[str, Any], Context], None]
# What makes two calls identical for the cooldown.
type CallKey = tuple[str, str | None, str | None, str | None, bool]


@dataclass(frozen=True, slots=True)
class Success:
    """A call that succeeded: when, and whether it waited for (and got) the answer."""

    monotonic: float
    at: datetime
    answered: bool


# Successful calls remembered for the cooldown before old ones are pruned.
_PRUNE_AFTER = 256
# Results kept for diagnostics.
RECENT_CALLS = 10


class SpectronicsCancelledError(SpectronicsError):
    """The account was unloaded, or Home Assistant stopped, while the call was in flight."""

    category = ERROR_CANCELLED


class SpectronicsNotAllowedError(SpectronicsValidationError):
    """A number of the call matches none of the account's allowed numbers."""

    def __init__(self, field: str, number: str) -> None:
        """Name the field and the number refused."""
        super().__init__(field, "not one of the allowed numbers")
        self.number = number


@dataclass(frozen=True, slots=True)
class Contact:
    """The contact a call is for: its name, its device, which phone rings first."""

    name: str
    device_id: str | None
    ring_first: str


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """A call's result as the event reports it, and its error when it failed."""

    result: dict[str, Any]
    error: SpectronicsError | None


def ring_first(subentry: ConfigSubentry) -> str:
    """Return which phone a contact's call rings first (RING_FIRST_OPTIONS)."""
    return str(subentry.data.get(CONF_RING_FIRST, RING_MY_EXTENSION))


def number_allowed(number: str, allowed: Sequence[str]) -> bool:
    """Return whether a number matches an allowed number or prefix (ending in *)."""
    if not allowed:
        return True
    return any(
        number.startswith(entry[:-1]) if entry.endswith("*") else number == entry
        for entry in allowed
    )


class SpectronicsDialer:
    """Places an account's calls: the safety rails, sending once, reporting once."""

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
        self._listeners: list[CallListener] = []
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_CALLS)
        self.counts: Counter[str] = Counter()
        self._active = 0
        self._queue: deque[asyncio.Future[None]] = deque()
        self._succeeded: OrderedDict[CallKey, Success] = OrderedDict()
        self._identical_in_flight: dict[CallKey, asyncio.Event] = {}

    def __repr__(self) -> str:
        """Describe the dialer by its client, which hides the token."""
        return f"SpectronicsDialer({self.client!r})"

    @callback
    def async_add_listener(self, listener: CallListener) -> CALLBACK_TYPE:
        """Call `listener` with every call's result and context; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def check_allowed(self, request: CallRequest) -> None:
        """Raise SpectronicsNotAllowedError unless every number of the call is allowed."""
        allowed = self.entry.options.get(CONF_ALLOWED_NUMBERS, [])
        for field, number in (
            (ATTR_DESTINATION, request.destination),
            (ATTR_SOURCE, request.source),
        ):
            if number is not None and not number_allowed(number, allowed):
                raise SpectronicsNotAllowedError(field, number)

    async def async_call(
        self,
        request: CallRequest,
        *,
        contact: Contact | None = None,
        context: Context | None = None,
    ) -> CallOutcome:
        """Place one call through the rails and return its outcome.

        Raises SpectronicsNotAllowedError, before anything is sent, for a number the
        account does not allow. Every other failure is in the outcome.
        """
        self.check_allowed(request)
        context = context or Context()
        extension = request.extension or self.client.extension
        result: dict[str, Any] = {
            ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
            ATTR_CONTACT: contact.name if contact else None,
            ATTR_RING_FIRST: contact.ring_first if contact else None,
            ATTR_EXTENSION: extension,
            ATTR_DESTINATION: request.destination,
            ATTR_SOURCE: request.source,
            ATTR_CIDNAME: request.cidname,
            ATTR_REVERSE: request.reverse,
            ATTR_WAIT: request.wait,
            ATTR_RINGS_FIRST: request.rings_first or extension,
            ATTR_SUPPRESSED: False,
        }
        # The entry owns the call: unloading the entry cancels it (it still reports).
        task = self.entry.async_create_background_task(
            self.hass,
            self._async_run(request, result, context, contact),
            f"{DOMAIN} call",
        )
        try:
            # A caller that stops waiting does not cancel a call that may be ringing.
            error = await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            error = SpectronicsCancelledError(CANCELLED_MESSAGE)
        return CallOutcome(result, error)

    @callback
    def async_set_client(
        self, client: SpectronicsClient, entry_data: Mapping[str, Any]
    ) -> None:
        """Send the next calls with a new client; calls in flight finish on the old."""
        self.client = client
        self.entry_data = entry_data

    @callback
    def async_wake(self) -> None:
        """Start queued calls the (possibly raised) simultaneous-call limit allows."""
        while self._queue and self._active < self._limit:
            waiter = self._queue.popleft()
            if not waiter.done():
                self._active += 1
                waiter.set_result(None)

    @property
    def lines(self) -> dict[str, int]:
        """Return the calls holding a line and those waiting for one."""
        return {"active": self._active, "queued": len(self._queue)}

    @property
    def _limit(self) -> int:
        """The account's simultaneous-call limit."""
        return int(
            self.entry.options.get(
                CONF_MAX_CONCURRENT_CALLS, DEFAULT_MAX_CONCURRENT_CALLS
            )
        )

    async def _async_run(
        self,
        request: CallRequest,
        result: dict[str, Any],
        context: Context,
        contact: Contact | None,
    ) -> SpectronicsError | None:
        """Apply the cooldown, send at most once, and report exactly once."""

        def report(error: str | None, message: str) -> None:
            self._async_report(result, context, contact, error, message)

        try:
            message = await self._async_send_unless_identical(request, result)
        except SpectronicsError as err:
            report(err.category, str(err))
            if isinstance(err, SpectronicsAuthError):
                self.entry.async_start_reauth(self.hass)
            return err
        except asyncio.CancelledError:
            report(ERROR_CANCELLED, CANCELLED_MESSAGE)
            raise
        except Exception:
            report(ERROR_UNKNOWN, "unexpected error")
            raise
        report(None, message)
        return None

    async def _async_send_unless_identical(
        self, request: CallRequest, result: dict[str, Any]
    ) -> str:
        """Return the provider's message, or why an identical call is not sent again."""
        cooldown = float(self.entry.options.get(CONF_COOLDOWN, DEFAULT_COOLDOWN))
        if not cooldown:
            return (await self._async_send_limited(request)).message
        key: CallKey = (
            request.destination,
            request.source,
            request.extension,
            request.cidname,
            request.reverse,
        )
        # An identical call in flight decides first: its success suppresses this one.
        while (in_flight := self._identical_in_flight.get(key)) is not None:
            await in_flight.wait()
        sent = self._succeeded.get(key)
        # A call that waits for the answer is held back only by one that was answered:
        # an accepted request (wait off) says nothing about anyone picking up.
        if sent is not None and (sent.answered or not request.wait):
            age = time.monotonic() - sent.monotonic
            if age < cooldown:
                result[ATTR_SUPPRESSED] = True
                what = "was answered" if sent.answered else "succeeded"
                return (
                    f"not sent: an identical call {what} {age:.0f} s ago"
                    f" (at {sent.at:%H:%M:%S}), within the {cooldown:g} s cooldown"
                )
        done = self._identical_in_flight[key] = asyncio.Event()
        try:
            reply = await self._async_send_limited(request)
            self._remember_success(key, answered=request.wait)
        finally:
            del self._identical_in_flight[key]
            done.set()
        return reply.message

    def _remember_success(self, key: CallKey, *, answered: bool) -> None:
        """Start the cooldown of a call that succeeded."""
        now = time.monotonic()
        succeeded = self._succeeded
        succeeded[key] = Success(now, dt_util.now(), answered)
        # Oldest first, so that pruning visits only the calls it drops.
        succeeded.move_to_end(key)
        if len(succeeded) > _PRUNE_AFTER:
            cooldown = float(self.entry.options.get(CONF_COOLDOWN, DEFAULT_COOLDOWN))
            # Stops at the latest (0 s old) at the call just remembered.
            while now - next(iter(succeeded.values())).monotonic > cooldown:
                succeeded.popitem(last=False)

    async def _async_send_limited(self, request: CallRequest) -> CallResult:
        """Send the call once a line is free, in the order the calls came."""
        await self._async_acquire()
        try:
            return await self._async_send(request)
        finally:
            self._active -= 1
            self.async_wake()

    async def _async_acquire(self) -> None:
        """Wait for a free line."""
        if self._active < self._limit and not self._queue:
            self._active += 1
            return
        waiter: asyncio.Future[None] = self.hass.loop.create_future()
        self._queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # The line was given as the call was cancelled: pass it on.
                self._active -= 1
                self.async_wake()
            with suppress(ValueError):
                self._queue.remove(waiter)
            raise

    async def _async_send(self, request: CallRequest) -> CallResult:
        """Send the call; retry only when no connection could be made at all."""
        wait_timeout = self.entry.options.get(CONF_WAIT_TIMEOUT)
        for delay in self.retry_delays:
            try:
                return await self.client.place_call(request, wait_timeout=wait_timeout)
            except SpectronicsConnectError as err:
                LOGGER.debug(
                    "No connection to the API, nothing sent; trying again in %g s: %s",
                    delay,
                    err,
                )
            await asyncio.sleep(delay)
        return await self.client.place_call(request, wait_timeout=wait_timeout)

    @callback
    def _async_report(
        self,
        result: dict[str, Any],
        context: Context,
        contact: Contact | None,
        error: str | None,
        message: str,
    ) -> None:
        """Complete the result, log it, fire the event and tell the listeners."""
        result |= {
            ATTR_SUCCESS: error is None,
            ATTR_MESSAGE: message,
            ATTR_ERROR: error,
        }
        LOGGER.debug(
            "Call ringing %s first, then %s (contact %s, wait %s): %s, %s",
            result[ATTR_RINGS_FIRST],
            result[ATTR_EXTENSION]
            if result[ATTR_REVERSE] and not result[ATTR_SOURCE]
            else result[ATTR_DESTINATION],
            result[ATTR_CONTACT],
            result[ATTR_WAIT],
            error or "success",
            message,
        )
        self.recent.append(result)
        self.counts[
            error or ("suppressed" if result[ATTR_SUPPRESSED] else "success")
        ] += 1
        self.hass.bus.async_fire(
            EVENT_CALL_RESULT, result | self._logbook_ids(contact), context=context
        )
        for listener in list(self._listeners):
            listener(result, context)

    def _logbook_ids(self, contact: Contact | None) -> dict[str, str | None]:
        """Return the entity and device a call's event is about, for the logbook.

        The account's "Last call" entity, and the contact's device (else the
        account's): the logbook then lists the call under "Last call" and on the
        device's page, not only in the unfiltered logbook.
        """
        entity_id = er.async_get(self.hass).async_get_entity_id(
            Platform.EVENT, DOMAIN, f"{self.entry.entry_id}_{LAST_CALL_KEY}"
        )
        device_id = (contact and contact.device_id) or self.device_id
        return {ATTR_ENTITY_ID: entity_id, ATTR_DEVICE_ID: device_id}
