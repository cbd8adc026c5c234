"""Repair issues: calls that keep failing the same way, and a token sent unencrypted."""

from __future__ import annotations

import re
from typing import Final

from yarl import URL

from homeassistant.const import CONF_URL
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, PROVIDER_URL
from .dialer import CallResult, SpectronicsConfigEntry

ISSUE_CALLS_FAILING: Final = "calls_failing"
ISSUE_INSECURE_URL: Final = "insecure_url"
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
    """Warn while the API URL is plain http://, which sends the token unencrypted."""
    url = URL(entry.data[CONF_URL])
    if url.scheme != "http":
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


@callback
def async_delete_issues(hass: HomeAssistant, entry: SpectronicsConfigEntry) -> None:
    """Remove the repair issues of an account that is removed."""
    for kind in (ISSUE_CALLS_FAILING, ISSUE_INSECURE_URL):
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))


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
