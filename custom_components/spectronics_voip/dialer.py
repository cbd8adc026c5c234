"""The account's one call API: every action, button, notify and escalation call."""

from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right, insort
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
import math
from operator import attrgetter
import time
from typing import Any, Final, Self

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
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
    CONF_MAX_CALLS_PER_DAY,
    CONF_MAX_CALLS_PER_HOUR,
    CONF_MAX_CONCURRENT_CALLS,
    CONF_REVERSE,
    CONF_RING_FIRST,
    CONF_SOURCE,
    CONF_WAIT,
    CONF_WAIT_TIMEOUT,
    DEFAULT_COOLDOWN,
    DEFAULT_MAX_CALLS_PER_DAY,
    DEFAULT_MAX_CALLS_PER_HOUR,
    DEFAULT_MAX_CONCURRENT_CALLS,
    DOMAIN,
    ERROR_BUDGET,
    ERROR_CANCELLED,
    ERROR_STOPPED,
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
    STOPPED_MESSAGE,
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
_HOUR_S: Final = 3600.0


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


_RESULT_FIELDS: Final = tuple(item.name for item in fields(CallResult))
_result_values: Final = attrgetter(*_RESULT_FIELDS)


class CallFailedError(HomeAssistantError):
    """A call that failed, translated; `result` is what its event reported."""

    def __init__(
        self, translation_key: str, result: CallResult, **placeholders: str
    ) -> None:
        """Translate the failure; keep the failed call's result."""
        super().__init__(
            translation_domain=DOMAIN,
            translation_key=translation_key,
            translation_placeholders={"message": result.message, **placeholders},
        )
        self.result = result


class CallsStoppedError(Exception):
    """Stop calls dropped a call that was waiting to be sent: it never was."""


class BudgetUsedUpError(Exception):
    """The call budget refuses the call: it is not sent."""

    def __init__(self, used_up: UsedUp) -> None:
        """Keep which budget, and when it frees up."""
        super().__init__(used_up.period)
        self.used_up = used_up


@dataclass(frozen=True, slots=True)
class Contact:
    """The contact a call is for: its name, its device, which phone rings first."""

    name: str
    device_id: str | None
    ring_first: str

    @classmethod
    def of(cls, subentry: ConfigSubentry, device_id: str | None) -> Self:
        """Return the contact a subentry is, as it is now, on its device."""
        return cls(subentry.title, device_id, ring_first(subentry))


@dataclass(frozen=True, slots=True)
class Escalation:
    """How call_until_answered ended: who answered, and every attempt's result."""

    success: bool
    answered_by: str | None
    attempts: list[CallResult]
    # Why it ended before every attempt was rung: "stop_calls" or "budget".
    stopped_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the escalation as the action's response data."""
        return {
            "success": self.success,
            "answered_by": self.answered_by,
            "attempts": [attempt.as_dict() for attempt in self.attempts],
            "stopped_by": self.stopped_by,
        }


@dataclass(slots=True, eq=False)
class _Stop:
    """Ends an escalation before its next attempt: why, once it is set."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str | None = None


type Attempt = tuple[CallRequest, Contact | None]


def call_counts_store(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> Store[dict[str, list[float]]]:
    """Return where an account's call counts survive a restart."""
    return Store(hass, 1, f"{DOMAIN}.{entry.entry_id}")


def counts_signal(entry: SpectronicsConfigEntry) -> str:
    """Return the signal sent when the account's call counts change."""
    return f"{DOMAIN}_{entry.entry_id}_counts"


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


class Waits:
    """Calls waiting before they are sent: for an identical call, or to try again.

    Stop calls drops them (each raises CallsStoppedError), as it drops the calls
    waiting for a line.
    """

    def __init__(self) -> None:
        """Start with no call waiting."""
        self._waiting: set[asyncio.Future[None]] = set()

    def __len__(self) -> int:
        """Return how many calls wait."""
        return len(self._waiting)

    async def wait(
        self, done: asyncio.Future[None] | None = None, delay: float | None = None
    ) -> None:
        """Wait until `done` is done or `delay` seconds pass, unless stopped first."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def wake(_: object = None) -> None:
            if not waiter.done():
                self._waiting.discard(waiter)
                waiter.set_result(None)

        if done is not None:
            done.add_done_callback(wake)
        timer = loop.call_later(delay, wake) if delay is not None else None
        self._waiting.add(waiter)
        try:
            await waiter
        finally:
            self._waiting.discard(waiter)
            if done is not None:
                done.remove_done_callback(wake)
            if timer is not None:
                timer.cancel()

    @callback
    def stop_waiting(self) -> int:
        """Drop every waiting call (it raises CallsStoppedError); count them."""
        dropped = len(self._waiting)
        for waiter in self._waiting:
            waiter.set_exception(CallsStoppedError())
        self._waiting.clear()
        return dropped


class Cooldown:
    """Holds back a call identical to one that succeeded less than `seconds()` ago.

    A call that waits for the answer is held back only by one that was answered: an
    accepted request (wait off) says nothing about anyone picking up.
    """

    def __init__(self, seconds: Callable[[], float], waits: Waits) -> None:
        """Start with no call remembered; identical calls wait in `waits`."""
        self._seconds = seconds
        self._waits = waits
        self._succeeded: OrderedDict[CallKey, _Success] = OrderedDict()
        self.in_flight: dict[CallKey, asyncio.Future[None]] = {}

    def __len__(self) -> int:
        """Return how many successful calls it remembers."""
        return len(self._succeeded)

    async def async_held_back(self, key: CallKey, *, wait: bool) -> str | None:
        """Return why the call is not sent, or None; an identical one in flight first."""
        if not (cooldown := self._seconds()):
            return None
        while (in_flight := self.in_flight.get(key)) is not None:
            await self._waits.wait(in_flight)
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
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def __enter__(self) -> None:
        """Make identical calls wait for this one."""
        self._cooldown.in_flight[self._key] = self._done

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        """Remember the call if it succeeded; let the identical calls go on."""
        if exc_type is None:
            self._cooldown.remember(self._key, answered=self._answered)
        del self._cooldown.in_flight[self._key]
        self._done.set_result(None)


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
    def stop_waiting(self) -> int:
        """Drop every call waiting for a line (it raises CallsStoppedError); count them."""
        dropped = 0
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.done():
                waiter.set_exception(CallsStoppedError())
                dropped += 1
        return dropped

    @callback
    def wake(self) -> None:
        """Start waiting calls the (possibly raised) limit allows."""
        while self._queue and self.active < self._limit():
            waiter = self._queue.popleft()
            if not waiter.done():
                self.active += 1
                waiter.set_result(None)


@dataclass(frozen=True, slots=True)
class UsedUp:
    """A budget that refuses calls: which, its limit, and when the next call may go."""

    period: str  # "hour" or "day"
    limit: int
    frees_at: datetime

    @property
    def frees_at_text(self) -> str:
        """Return when the next call may go, in local time, as messages say it."""
        return f"{dt_util.as_local(self.frees_at):%H:%M:%S on %Y-%m-%d}"


@dataclass(slots=True)
class Reservation:
    """A call counted against the budget while it is sent; settled as it ends."""

    budget: Budget
    mark: float  # when it was sent, a UTC timestamp
    # Whether its request may have reached the provider: then it counts.
    sent: bool = False

    def __enter__(self) -> Self:
        """Send the call."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Count the call if it may have been sent; else take it back."""
        self.budget.settle(self)


class Budget:
    """Counts the calls that reached the provider; refuses one past a budget.

    A call counts once its request may have reached the provider, whether it
    succeeded or failed; one held back by the cooldown, refused before sending or
    that never connected does not. The hourly budget is the last 60 minutes; the
    daily budget the local day, since midnight.

    A call being sent is reserved first: the budget counts it, the counts do not
    until it is known to have been sent (so that they never go down).
    """

    def __init__(
        self,
        per_hour: Callable[[], int],
        per_day: Callable[[], int],
        on_change: Callable[[], None],
    ) -> None:
        """Start with no call counted; call `on_change` whenever the counts change."""
        self._per_hour = per_hour
        self._per_day = per_day
        self._on_change = on_change
        # When each counted call was sent (UTC timestamps), in order: those of the
        # last hour and of today only.
        self._sent: list[float] = []
        # Calls being sent: counted against the budget, not yet in the counts.
        self._sending: list[float] = []
        self._day = (0.0, 0.0)  # today's local midnight and the next, UTC timestamps

    @property
    def limits(self) -> tuple[int, int]:
        """Return the hourly and the daily budget (0: off)."""
        return self._per_hour(), self._per_day()

    def load(self, sent: Sequence[float]) -> None:
        """Take the calls counted before a restart."""
        self._sent = sorted(sent)
        self.counts(dt_util.utcnow())

    def dump(self) -> list[float]:
        """Return the calls counted, to survive a restart (those being sent too)."""
        return sorted(self._sent + self._sending)

    def counts(self, now: datetime) -> tuple[int, int]:
        """Return the calls counted in the last hour and today."""
        hour_ago = now.timestamp() - _HOUR_S
        midnight, _ = self._today(now)
        # Forget the calls neither of the last hour nor of today.
        del self._sent[: bisect_right(self._sent, min(hour_ago, midnight))]
        total = len(self._sent)
        return (
            total - bisect_right(self._sent, hour_ago),
            total - bisect_left(self._sent, midnight),
        )

    def used_up(self, now: datetime) -> UsedUp | None:
        """Return the budget that refuses a call now, if any."""
        per_hour, per_day = self.limits
        if not (per_hour or per_day):
            return None
        in_hour, today = self.counts(now)
        # Calls being sent were reserved now, within the hour and (but for one
        # crossing midnight) today: close enough to count in both.
        sending = len(self._sending)
        if per_day and today + sending >= per_day:
            return UsedUp("day", per_day, dt_util.utc_from_timestamp(self._day[1]))
        if per_hour and in_hour + sending >= per_hour:
            # Frees up once the hour's per_hour-th newest call is an hour old,
            # shown to the second after it, when a call is sure to be allowed.
            newest = sorted(self._sent[-per_hour:] + self._sending)[-per_hour]
            frees_at = math.ceil(newest + _HOUR_S)
            return UsedUp("hour", per_hour, dt_util.utc_from_timestamp(frees_at))
        return None

    def reserve(self, now: datetime) -> Reservation:
        """Count a call about to be sent now, until its reservation is settled.

        Raises BudgetUsedUpError, counting nothing, while a budget refuses calls.
        """
        if used_up := self.used_up(now):
            raise BudgetUsedUpError(used_up)
        mark = now.timestamp()
        self._sending.append(mark)
        return Reservation(self, mark)

    def settle(self, reservation: Reservation) -> None:
        """Count a reserved call as sent, or take it back: it never was."""
        self._sending.remove(reservation.mark)
        if reservation.sent:
            insort(self._sent, reservation.mark)
        self._on_change()

    def next_change(self, now: datetime) -> datetime:
        """Return when the counts change without a call: one an hour old, or midnight."""
        _, midnight = self._today(now)
        sent = self._sent
        # The oldest call of the last hour leaves it first.
        oldest = bisect_right(sent, now.timestamp() - _HOUR_S)
        return dt_util.utc_from_timestamp(
            min(sent[oldest] + _HOUR_S, midnight) if oldest < len(sent) else midnight
        )

    def _today(self, now: datetime) -> tuple[float, float]:
        """Return today's local midnight and the next one, as UTC timestamps."""
        if not self._day[0] <= now.timestamp() < self._day[1]:
            start = dt_util.start_of_local_day(dt_util.as_local(now))
            self._day = (
                start.timestamp(),
                dt_util.start_of_local_day(
                    start + timedelta(days=1, hours=1)
                ).timestamp(),
            )
        return self._day


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
        self.waits = Waits()
        self.cooldown = Cooldown(
            lambda: float(entry.options.get(CONF_COOLDOWN, DEFAULT_COOLDOWN)),
            self.waits,
        )
        self.lines = LineLimiter(
            lambda: int(
                entry.options.get(
                    CONF_MAX_CONCURRENT_CALLS, DEFAULT_MAX_CONCURRENT_CALLS
                )
            )
        )
        self.budget = Budget(
            lambda: int(
                entry.options.get(CONF_MAX_CALLS_PER_HOUR, DEFAULT_MAX_CALLS_PER_HOUR)
            ),
            lambda: int(
                entry.options.get(CONF_MAX_CALLS_PER_DAY, DEFAULT_MAX_CALLS_PER_DAY)
            ),
            lambda: self.async_counts_changed(),  # noqa: PLW0108 - looked up per call
        )
        self._store = call_counts_store(hass, entry)
        self._next_change: CALLBACK_TYPE | None = None
        self._next_change_at = dt_util.utcnow()
        self._closed = False
        self._calls: set[asyncio.Task[CallResult]] = set()
        self._escalations: set[_Stop] = set()
        # The account's "Last call" entity, while it is added.
        self.last_call_entity_id: str | None = None
        self.recent: deque[CallResult] = deque(maxlen=RECENT_CALLS)
        self.counts: Counter[str] = Counter()
        self._listeners: list[CallListener] = []

    def __repr__(self) -> str:
        """Describe the dialer by its client, which hides the token."""
        return f"SpectronicsDialer({self.client!r})"

    async def async_load(self) -> None:
        """Take the calls counted before a restart; follow their counts over time."""
        if stored := await self._store.async_load():
            self.budget.load(stored["sent"])
        self.entry.async_on_unload(self._async_close)
        self.async_counts_changed()

    @callback
    def async_counts_changed(self, fired: datetime | None = None) -> None:
        """Tell the counters and repairs; keep the counts; wake at their next change."""
        if fired is not None:
            self._next_change = None  # it fired
        if self._closed:
            return  # unloaded: the counts were stored as it closed
        when = self.budget.next_change(dt_util.utcnow())
        if self._next_change is None or when < self._next_change_at:
            self._async_cancel_next_change()
            self._next_change = async_track_point_in_utc_time(
                self.hass, self.async_counts_changed, when
            )
            self._next_change_at = when
        self._store.async_delay_save(lambda: {"sent": self.budget.dump()}, 1)
        async_dispatcher_send(self.hass, counts_signal(self.entry))

    async def _async_close(self) -> None:
        """Settle the calls in flight and store the counts: the account unloads.

        A call cancelled here still counts if it may have reached the provider;
        nothing is stored after this, so that removing the account removes its
        counts for good.
        """
        self._closed = True
        self._async_cancel_next_change()
        if calls := list(self._calls):
            for task in calls:
                task.cancel(f"{self.entry.title} unloading")
            await asyncio.wait(calls)
        await self._store.async_save({"sent": self.budget.dump()})

    @callback
    def _async_cancel_next_change(self) -> None:
        """Stop waiting for the counts' next change."""
        if self._next_change is not None:
            self._next_change()
            self._next_change = None

    @callback
    def async_stop(self) -> tuple[int, int]:
        """End every running escalation and drop every call waiting for a line.

        A request already sent rings on: the provider has no hang-up. Return how
        many escalations ended and how many calls were dropped.
        """
        running = [stop for stop in self._escalations if not stop.event.is_set()]
        for stop in running:
            stop.reason = "stop_calls"
            stop.event.set()
        return len(running), self.lines.stop_waiting() + self.waits.stop_waiting()

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

    async def async_call_contact(
        self,
        subentry: ConfigSubentry,
        device_id: str | None,
        *,
        cidname: str | None = None,
        context: Context | None = None,
    ) -> CallResult:
        """Place a contact's call (a button, notify, voice), reported as theirs."""
        return await self.async_call(
            self.contact_request(subentry, cidname),
            contact=Contact.of(subentry, device_id),
            context=context,
        )

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
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
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
            with (
                self.budget.reserve(dt_util.utcnow()) as reservation,
                self.cooldown.sending(key, answered=request.wait),
            ):
                async with self.lines:
                    delays = iter(self.retry_delays)
                    while True:
                        try:
                            reservation.sent = True
                            reply = await self.client.place_call(
                                request,
                                wait_timeout=self.entry.options.get(CONF_WAIT_TIMEOUT),
                            )
                            break
                        except SpectronicsConnectError as err:
                            # Nothing was sent: trying again cannot ring twice.
                            reservation.sent = False
                            if (delay := next(delays, None)) is None:
                                raise
                            LOGGER.debug(
                                "No connection to the API, nothing sent;"
                                " trying again in %g s: %s",
                                delay,
                                err,
                            )
                            await self.waits.wait(delay=delay)
        except BudgetUsedUpError as err:
            used_up = err.used_up
            at = used_up.frees_at_text
            result = report(
                message=f"not sent: this account's budget of {used_up.limit} calls"
                f" a{'n' if used_up.period == 'hour' else ''} {used_up.period} is used"
                f" up; the next call may go at {at}",
                error=ERROR_BUDGET,
            )
            raise CallFailedError(
                "call_over_hourly_budget"
                if used_up.period == "hour"
                else "call_over_daily_budget",
                result,
                limit=str(used_up.limit),
                time=at,
            ) from None
        except CallsStoppedError:
            result = report(message=STOPPED_MESSAGE, error=ERROR_STOPPED)
            raise CallFailedError("call_stopped", result) from None
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
        stop = _Stop()
        self._escalations.add(stop)
        task = self.entry.async_create_background_task(
            self.hass,
            self._async_escalate(attempts, rounds, delay, context, stop),
            f"{DOMAIN} call_until_answered",
        )
        task.add_done_callback(lambda _: self._escalations.discard(stop))
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
            stop.event.set()
            task.add_done_callback(_discard_outcome)
            raise

    async def _async_escalate(
        self,
        attempts: Sequence[Attempt],
        rounds: int,
        delay: float,
        context: Context,
        stop: _Stop,
    ) -> Escalation:
        """Ring the attempts until one answers, all rounds are rung or it is stopped.

        Stop calls, and the budget refusing an attempt, end it: its response says so.
        """
        results: list[CallResult] = []
        for request, contact in list(attempts) * rounds:
            if results and delay:
                with suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await stop.event.wait()
            if stop.event.is_set():
                return Escalation(False, None, results, stop.reason)
            try:
                result = await self.async_call(
                    request, contact=contact, context=context
                )
            except CallFailedError as err:
                if err.translation_key in ("call_failed_auth", "call_failed_cancelled"):
                    raise  # no further attempt could succeed
                results.append(err.result)
                if err.result.error == ERROR_BUDGET:
                    return Escalation(False, None, results, "budget")
                if err.result.error == ERROR_STOPPED:
                    return Escalation(False, None, results, "stop_calls")
                continue
            results.append(result)
            # Whose phone answered: the contact's, or the number rung first.
            return Escalation(
                True, contact.name if contact else request.source, results
            )
        return Escalation(False, None, results, stop.reason)


def _discard_outcome(task: asyncio.Task[Escalation]) -> None:
    """Retrieve the outcome of an escalation whose caller left; it was reported."""
    with suppress(asyncio.CancelledError):  # an unload cancelled it
        task.exception()
