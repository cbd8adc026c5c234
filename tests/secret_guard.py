"""Session-wide secret guard: no known token in any log record, event or exception.

For the whole session the root logger is at DEBUG with a handler that checks every
record; every `hass` a test creates gets a MATCH_ALL listener that checks every event;
every exception a test phase ends with is checked. After each test, the tokens it used
(those the simulator received, those of its config entries) are added to the known
secrets and its records and events are checked for them too.

A leak errors the test it happened in, at teardown; one outside any test fails the
session. Reports name a secret's label, never the secret. tests/conftest.py imports
the hooks; `pytest -p tests.secret_guard` loads them on their own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Generator, Iterable, Mapping
import hashlib
import logging
from typing import Any

import pytest

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_TOKEN, MATCH_ALL
from homeassistant.core import Event, HomeAssistant, callback

from .known_secrets import (
    MIN_SECRET_LENGTH,
    SECRETS,
    event_texts,
    exception_texts,
    find_secrets,
    record_texts,
    register_secret,
)
from .simulator import Simulator

_WATCHED = "tests.secret_guard"


class SecretGuard:
    """Checks texts for known secrets and keeps the leaks per test."""

    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        """Look for `secrets` (default: the registry, as it grows)."""
        self._secrets = secrets
        self.test: str | None = None
        self.leaks: defaultdict[str | None, list[str]] = defaultdict(list)
        self.checked: Counter[str] = Counter()
        self.watched = 0
        # The texts seen during the current test, checked again at its end for the
        # tokens discovered then.
        self._texts: list[tuple[str, str]] = []

    def check(self, kind: str, where: str, texts: list[str]) -> set[str]:
        """Check texts; record and return the labels of the secrets found."""
        self.checked[kind] += 1
        labels = find_secrets(texts, self._secrets)
        if labels:
            self.leaks[self.test].append(f"{where}: {', '.join(sorted(labels))}")
        if self.test is not None:
            self._texts += [(where, text) for text in texts]
        return labels

    def check_record(self, record: logging.LogRecord) -> set[str]:
        """Check a log record: message, arguments, traceback."""
        where = f"log record of {record.name} ({record.levelname})"
        return self.check("log records", where, record_texts(record))

    def check_event(self, event: Event[Any]) -> set[str]:
        """Check an event: type, data and repr."""
        return self.check("events", f"event {event.event_type}", event_texts(event))

    def check_exception(self, where: str, err: BaseException) -> set[str]:
        """Check an exception: str, repr and traceback of its whole chain."""
        return self.check("exceptions", where, exception_texts(err))

    @callback
    def _async_listener(self, event: Event[Any]) -> None:
        """Check every event of a Home Assistant instance."""
        self.check_event(event)

    def watch(self, hass: HomeAssistant) -> None:
        """Check every event this Home Assistant fires from now on."""
        if hass.data.get(_WATCHED):
            return
        hass.data[_WATCHED] = True
        hass.bus.async_listen(MATCH_ALL, self._async_listener)
        self.watched += 1

    def start_test(self, nodeid: str) -> None:
        """Attribute what follows to this test."""
        self.test = nodeid
        self._texts.clear()

    def end_test(self, discovered: Iterable[str]) -> list[str]:
        """Check the test's texts for the tokens it used; return its leaks."""
        new = {
            token: register_secret(token)
            for token in discovered
            if len(token.strip()) >= MIN_SECRET_LENGTH and token not in SECRETS
        }
        if new:
            labels = {token: SECRETS[token] for token in new}
            for where, text in self._texts:
                if found := find_secrets([text], labels):
                    self.leaks[self.test].append(f"{where}: {', '.join(sorted(found))}")
        self._texts.clear()
        leaks = list(dict.fromkeys(self.leaks.pop(self.test, [])))
        self.test = None
        return leaks


class _GuardHandler(logging.Handler):
    """Hands every log record to the guard."""

    def __init__(self, guard: SecretGuard) -> None:
        """Check at DEBUG and above."""
        super().__init__(logging.DEBUG)
        self.guard = guard

    def emit(self, record: logging.LogRecord) -> None:
        """Check the record."""
        try:
            self.guard.check_record(record)
        except Exception:  # noqa: BLE001 - logging must not fail the code under test
            self.handleError(record)


GUARD = SecretGuard()
_HANDLER = _GuardHandler(GUARD)
_saved_level = logging.WARNING


def _discover(values: Iterable[Any]) -> set[str]:
    """Return the tokens a test's fixtures used: sent to a simulator, or in an entry."""
    tokens: set[str] = set()
    for value in values:
        if isinstance(value, Simulator):
            tokens |= {r.fields["auth"] for r in value.requests if "auth" in r.fields}
        elif isinstance(value, ConfigEntry):
            tokens.add(str(value.data.get(CONF_API_TOKEN, "")))
        elif isinstance(value, HomeAssistant):
            tokens |= {
                str(entry.data.get(CONF_API_TOKEN, ""))
                for entry in value.config_entries.async_entries()
            }
    return tokens


def quiet_loggers() -> dict[str, str]:
    """Return the loggers set above DEBUG or not propagating: the guard misses them."""
    quiet: dict[str, str] = {}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if not isinstance(logger, logging.Logger):
            continue
        if logger.level > logging.DEBUG:
            quiet[name] = logging.getLevelName(logger.level)
        elif not logger.propagate:
            quiet[name] = "propagate=False"
    return quiet


def pytest_configure(config: pytest.Config) -> None:
    """Put every logger at DEBUG and check every record, for the whole session."""
    global _saved_level  # noqa: PLW0603 - restored at unconfigure
    root = logging.getLogger()
    _saved_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(_HANDLER)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the handler."""
    root = logging.getLogger()
    root.removeHandler(_HANDLER)
    root.setLevel(_saved_level)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    """Listen to every event of every `hass` a test creates."""
    result = yield
    if isinstance(result, HomeAssistant):
        GUARD.watch(result)
    return result


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Attribute the records and events that follow to this test."""
    GUARD.start_test(nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Check the exception a phase ended with; at teardown, error a leaking test."""
    report = yield
    if call.excinfo is not None:
        GUARD.check_exception(f"exception ending {call.when}", call.excinfo.value)
    if call.when == "teardown":
        funcargs: dict[str, Any] = getattr(item, "funcargs", None) or {}
        if leaks := GUARD.end_test(_discover(funcargs.values())):
            report.outcome = "failed"
            report.longrepr = "secret guard: a known token appeared in\n  " + (
                "\n  ".join(leaks)
            )
    return report


# What the xdist workers' guards report, added up by the controller.
_WORKERS: dict[str, Any] = {"secrets": set(), "quiet": {}}


def _fingerprints() -> set[str]:
    """Return the known secrets' SHA-256 digests: they count tokens without showing them."""
    return {hashlib.sha256(secret.encode()).hexdigest() for secret in SECRETS}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if a token leaked outside any test.

    An xdist worker also hands what its guard checked to the controller.
    """
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["secret_guard"] = {
            "checked": dict(GUARD.checked),
            "watched": GUARD.watched,
            "secrets": sorted(_fingerprints()),
            "leaks": GUARD.leaks.get(None, []),
            "quiet": quiet_loggers(),
        }
    if GUARD.leaks.get(None):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Add an xdist worker's figures and leaks outside any test to the controller's."""
    report = getattr(node, "workeroutput", {}).get("secret_guard")
    if report is None:
        return
    GUARD.checked.update(report["checked"])
    GUARD.watched += report["watched"]
    GUARD.leaks[None].extend(report["leaks"])
    _WORKERS["secrets"].update(report["secrets"])
    _WORKERS["quiet"].update(report["quiet"])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say what the guard checked, and any leak outside a test."""
    checked = ", ".join(f"{count} {kind}" for kind, count in GUARD.checked.items())
    terminalreporter.write_sep("-", "secret guard")
    terminalreporter.write_line(
        f"looked for {len(_fingerprints() | _WORKERS['secrets'])} tokens in"
        f" {checked or 'nothing'} ({GUARD.watched} Home Assistant instances watched)"
    )
    for leak in GUARD.leaks.get(None, []):
        terminalreporter.write_line(f"LEAK outside any test: {leak}", red=True)
    if quiet := {**_WORKERS["quiet"], **quiet_loggers()}:
        terminalreporter.write_line(f"loggers it cannot see below their level: {quiet}")
