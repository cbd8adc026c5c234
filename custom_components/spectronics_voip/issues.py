"""Repair issues: calls that keep failing, a used-up call budget, an unencrypted token."""

from __future__ import annotations

from ipaddress import ip_address
import re
from typing import Final

from yarl import URL

from homeassistant.const import CONF_URL
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from .const import DOMAIN, PROVIDER_URL
from .dialer import CallResult, SpectronicsConfigEntry, counts_signal

ISSUE_CALLS_FAILING: Final = "calls_failing"
ISSUE_INSECURE_URL: Final = "insecure_url"
ISSUE_HOURLY_BUDGET: Final = "hourly_budget_used_up"
ISSUE_DAILY_BUDGET: Final = "daily_budget_used_up"
BUDGET_ISSUES: Final = {"hour": ISSUE_HOURLY_BUDGET, "day": ISSUE_DAILY_BUDGET}
FAILURES_FOR_ISSUE: Final = 3
# With wait on, an ERR: may only mean that nobody answered: that says nothing about the
# account, so such failures neither count nor break a run.
_NOT_ANSWERED: Final = re.compile(
    r"reject|time[ds]?\s?out|busy|no answer|unanswered|declin", re.IGNORECASE
)


def issue_id(kind: str, entry: SpectronicsConfigEntry) -> str:
    """Return the id of an account's repair issue."""
    return f"{kind}_{entry.entry_id}"


@callback
def async_check_url(hass: HomeAssistant, entry: SpectronicsConfigEntry) -> None:
    """Warn while the API URL is plain http:// to another host than this one.

    The token then crosses the network between Home Assistant and that host
    unencrypted; to a loopback address (the demo's simulator) it does not.
    """
    url = URL(entry.data[CONF_URL])
    if url.scheme != "http" or _is_loopback(url.host or ""):
        ir.async_delete_issue(hass, DOMAIN, issue_id(ISSUE_INSECURE_URL, entry))
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(ISSUE_INSECURE_URL, entry),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_INSECURE_URL,
        translation_placeholders={
            "title": entry.title,
            "host": url.host or "",
            "https_url": str(url.with_scheme("https")),
        },
    )


def _is_loopback(host: str) -> bool:
    """Return whether a host is this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@callback
def async_delete_issues(hass: HomeAssistant, entry: SpectronicsConfigEntry) -> None:
    """Remove the repair issues of an account that is removed."""
    for kind in (
        ISSUE_CALLS_FAILING,
        ISSUE_INSECURE_URL,
        ISSUE_HOURLY_BUDGET,
        ISSUE_DAILY_BUDGET,
    ):
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))


@callback
def async_watch_budget(
    hass: HomeAssistant, entry: SpectronicsConfigEntry
) -> CALLBACK_TYPE:
    """Keep a repair issue while a call budget refuses calls; return the remover.

    Set up again, the account raises the issue anew if its budget is still used up.
    """

    @callback
    def async_check() -> None:
        """Raise the issue of a used-up budget; remove one that frees up."""
        budget = entry.runtime_data.budget
        now = dt_util.utcnow()
        used_up = budget.used_up(now)
        in_hour, today = budget.counts(now)
        for period, count in (("hour", in_hour), ("day", today)):
            if used_up is None or used_up.period != period:
                ir.async_delete_issue(
                    hass, DOMAIN, issue_id(BUDGET_ISSUES[period], entry)
                )
                continue
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id(BUDGET_ISSUES[period], entry),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=BUDGET_ISSUES[period],
                translation_placeholders={
                    "title": entry.title,
                    "count": str(count),
                    "limit": str(used_up.limit),
                    "time": used_up.frees_at_text,
                },
            )

    disconnect = async_dispatcher_connect(hass, counts_signal(entry), async_check)

    @callback
    def async_unwatch() -> None:
        """Stop watching; an unloaded account refuses no call, so has no such issue."""
        disconnect()
        for kind in BUDGET_ISSUES.values():
            ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))

    return async_unwatch


class FailingCallsMonitor:
    """Raises a repair issue when calls keep failing with the same provider error."""

    def __init__(self, hass: HomeAssistant, entry: SpectronicsConfigEntry) -> None:
        """Start with no failures."""
        self.hass = hass
        self.entry = entry
        self._message: str | None = None
        self._count = 0

    @callback
    def __call__(self, result: CallResult, context: Context) -> None:
        """Count a call's outcome; raise the issue on the third identical failure."""
        message = result.message
        if result.success:
            if self._count >= FAILURES_FOR_ISSUE:
                ir.async_delete_issue(
                    self.hass, DOMAIN, issue_id(ISSUE_CALLS_FAILING, self.entry)
                )
            self._message, self._count = None, 0
            return
        if result.error != "api" or (result.wait and _NOT_ANSWERED.search(message)):
            return
        if message != self._message:
            self._message, self._count = message, 0
        self._count += 1
        if self._count != FAILURES_FOR_ISSUE:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(ISSUE_CALLS_FAILING, self.entry),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_CALLS_FAILING,
            translation_placeholders={
                "title": self.entry.title,
                "count": str(FAILURES_FOR_ISSUE),
                "message": message,
                "provider_url": PROVIDER_URL,
            },
        )
