"""Secrets: the session-wide guard works, and the token never travels in a URL."""

from __future__ import annotations

import logging
from pathlib import Path
import subprocess
import sys
import textwrap

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spectronics_voip.const import DOMAIN, SERVICE_PLACE_CALL
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .known_secrets import SECRETS, register_secret
from .secret_guard import _HANDLER, GUARD, SecretGuard
from .simulator import ALL_TOKEN, PATH, Simulator

ROOT = Path(__file__).parent.parent
CANARY = "canary-7f3e1b9d"  # registered nowhere but in these private guards
CANARIES = {CANARY: "canary"}


def _record(
    msg: str,
    *args: object,
    exc: BaseException | None = None,
    sinfo: str | None = None,
) -> logging.LogRecord:
    """Return a DEBUG log record, as a logger would make it."""
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(
        "custom_components.spectronics_voip",
        logging.DEBUG,
        __file__,
        1,
        msg,
        args,
        exc_info,
        sinfo=sinfo,
    )


def _connect() -> None:
    """Fail as a client might, echoing the token."""
    raise ConnectionError(f"refused for {CANARY}")


def _call_api() -> None:
    """Fail with a clean error chained to one that shows the token."""
    try:
        _connect()
    except ConnectionError as err:
        raise HomeAssistantError("Could not reach the API") from err


def _raised() -> BaseException:
    """Return a raised exception chain, with tracebacks."""
    with pytest.raises(HomeAssistantError) as exc_info:
        _call_api()
    return exc_info.value


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(_record(f"posting auth={CANARY}"), id="message"),
        pytest.param(_record("posting %s", {"auth": CANARY}), id="argument"),
        pytest.param(_record("failed", exc=_raised()), id="traceback"),
        pytest.param(_record("failed", sinfo=f"Stack: {CANARY}"), id="stack-info"),
        pytest.param(_record("url %s", f"http://h/?auth={CANARY}"), id="in-url"),
    ],
)
def test_guard_finds_a_token_in_a_log_record(record: logging.LogRecord) -> None:
    """A log record that shows the token, anywhere in it, is a leak."""
    guard = SecretGuard(CANARIES)
    guard.start_test("test")

    assert guard.check_record(record) == {"canary"}
    assert guard.end_test([]) == [
        "log record of custom_components.spectronics_voip (DEBUG): canary"
    ]


def test_guard_finds_an_encoded_token() -> None:
    """A token with reserved characters is found URL-encoded too, as in a form."""
    guard = SecretGuard({"p+q r&s=t%": "special"})
    guard.start_test("test")

    assert guard.check_record(_record("body auth=p%2Bq+r%26s%3Dt%25&x=1")) == {
        "special"
    }
    assert guard.check_record(_record("body auth=p%2Bq%20r%26s%3Dt%25")) == {"special"}


def test_guard_finds_a_token_in_an_event_or_exception_chain() -> None:
    """An event or any exception of a chain that shows the token is a leak."""
    guard = SecretGuard(CANARIES)
    guard.start_test("test")
    chained = _raised()
    assert CANARY not in str(chained)

    assert guard.check_event(Event("anything", {"data": {"auth": CANARY}})) == {
        "canary"
    }
    assert guard.check_exception("exception ending call", chained) == {"canary"}
    assert guard.check_event(Event("anything", {"auth": "**REDACTED**"})) == set()
    assert len(guard.end_test([])) == 2


def test_guard_finds_a_token_discovered_after_the_test() -> None:
    """A token first seen at the end of a test is looked for in all the test saw."""
    guard = SecretGuard({})
    guard.start_test("test")
    token = "rotated-4c1d8e2a"

    assert guard.check_record(_record("new token %s", token)) == set()
    assert guard.end_test([token]) == [
        f"log record of custom_components.spectronics_voip (DEBUG): {SECRETS[token]}"
    ]
    assert token not in " ".join(SECRETS.values())


def test_registry() -> None:
    """The simulator's tokens are known; a test registers its own, not short ones."""
    assert ALL_TOKEN in SECRETS
    assert register_secret("another-2b7c9f0e") == "another-2b7c9f0e"
    assert "another-2b7c9f0e" in SECRETS
    assert register_secret("abc") == "abc"
    assert "abc" not in SECRETS


async def test_session_guard_is_active(hass: HomeAssistant) -> None:
    """For this test too, every logger is at DEBUG and every event is checked."""
    root = logging.getLogger()
    assert root.getEffectiveLevel() == logging.DEBUG
    assert _HANDLER in root.handlers
    assert hass.bus.async_listeners()[MATCH_ALL] >= 1
    records, events = GUARD.checked["log records"], GUARD.checked["events"]

    logging.getLogger("custom_components.spectronics_voip").debug("guard check")
    hass.bus.async_fire("secret_guard_check", {"value": 1})
    await hass.async_block_till_done()

    assert GUARD.checked["log records"] > records
    assert GUARD.checked["events"] > events


@pytest.mark.slow
def test_guard_errors_a_test_that_leaks(tmp_path: Path) -> None:
    """End to end: a test that logs a known token at DEBUG errors; its output hides it.

    Runs pytest on two small tests, with the guard as a plugin, in a new process.
    """
    (tmp_path / "test_leak.py").write_text(
        textwrap.dedent(
            f"""
            import logging

            from tests.known_secrets import register_secret

            TOKEN = register_secret("leak-test-5d2a7c41")


            def test_leaks() -> None:
                logging.getLogger("some.module").debug("sending %s", TOKEN)


            def test_clean() -> None:
                logging.getLogger("some.module").debug("sending **REDACTED**")


            def test_raises_with_token() -> None:
                raise RuntimeError({ALL_TOKEN!r})
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "-p",
            "tests.secret_guard",
            "-p",
            "no:cacheprovider",
            "-q",
            str(tmp_path / "test_leak.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr

    assert result.returncode == 1, output
    assert "ERROR at teardown of test_leaks" in output
    assert "log record of some.module (DEBUG): token #" in output
    assert "ERROR at teardown of test_raises_with_token" in output
    assert "exception ending call: simulator.ALL_TOKEN" in output
    # test_leaks passes, then errors at teardown; test_raises_with_token fails too.
    assert "1 failed, 2 passed, 2 errors" in output


async def test_token_never_in_a_url(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The provider sees the token only in POST bodies: never in a path or query."""
    await hass.services.async_call(
        DOMAIN, SERVICE_PLACE_CALL, {"destination": "123"}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, SERVICE_PLACE_CALL, {"destination": "456", "wait": True}, blocking=True
    )
    simulator.tokens.clear()
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN, SERVICE_PLACE_CALL, {"destination": "789"}, blocking=True
        )

    assert len(simulator.requests) == 4  # the setup's check and three calls
    for request in simulator.requests:
        assert request.method == "POST"
        assert request.path == PATH
        assert request.query == {}
        assert request.fields["auth"] == ALL_TOKEN
        assert request.body.startswith(b"auth=")
    assert ALL_TOKEN not in init_integration.runtime_data.client.url
