"""Fixtures: the simulator on loopback, a config entry, and the set-up integration."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
import logging
import re
from unittest.mock import MagicMock, patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.spectronics_voip.api import CallReply
from custom_components.spectronics_voip.const import DOMAIN
from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.core import HomeAssistant

from .common import free_port, make_entry

# The session-wide secret guard (tests/secret_guard.py): pytest finds these hooks here.
from .secret_guard import (  # noqa: F401
    pytest_configure,
    pytest_fixture_setup,
    pytest_runtest_logstart,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
    pytest_unconfigure,
)
from .simulator import EXTENSION, Simulator

# The API URL of an account whose client is mocked: nothing listens there.
MOCK_URL = "https://voip.invalid/api/0.9.3/call"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


# What core logs when an integration uses an API it is about to break: report_usage's
# "Detected that custom integration 'spectronics_voip' ...", and helpers.deprecation's
# "The deprecated function X was used from spectronics_voip ...".
CORE_REPORT = re.compile(
    rf"Detected that custom integration '{DOMAIN}'|deprecated.*\b{DOMAIN}\b",
    re.IGNORECASE | re.DOTALL,
)


class CoreReports(logging.Handler):
    """Keeps every warning core logs about this integration's use of its API."""

    def __init__(self) -> None:
        """Start with none."""
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep a record that reports this integration."""
        message = record.getMessage()
        if CORE_REPORT.search(message):
            self.reports.append(message)


@pytest.fixture(autouse=True)
def fail_on_core_reports() -> Generator[CoreReports]:
    """Fail a test during which core reported the integration (deprecated API use).

    Core logs each report once per process; the test plugin forgets them after every
    test (reset_globals), so each test sees its own.
    """
    handler = CoreReports()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
    if handler.reports:
        pytest.fail(
            "Home Assistant reported the integration:\n" + "\n".join(handler.reports),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def short_retry_delays() -> Generator[None]:
    """Pause 10 and 20 ms, not 1 and 2 s, before retrying a call that never connected.

    tests/test_rails.py::test_retry_pauses_one_then_two_seconds keeps the real pauses.
    """
    with patch("custom_components.spectronics_voip.dialer.RETRY_DELAYS", (0.01, 0.02)):
        yield


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncGenerator[Simulator]:
    """Serve the provider's simulator on a free loopback port.

    Home Assistant's test plugin blocks sockets; connections stay limited to 127.0.0.1.
    """
    sim = Simulator()
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def mock_client() -> Generator[MagicMock]:
    """Replace the account's client with a mock of its interface.

    For a test that only needs a client that answers or raises; the simulator stays
    for the client's own tests, the fault matrix, load, the browser and the benchmark.
    """
    with patch(
        "custom_components.spectronics_voip.SpectronicsClient", autospec=True
    ) as client_class:
        client = client_class.return_value
        client.extension = EXTENSION
        client.url = MOCK_URL
        client.place_call.side_effect = lambda request, **_: CallReply(
            request, "Call request sent"
        )
        yield client


@pytest.fixture
def mock_config_entry(simulator: Simulator) -> MockConfigEntry:
    """Return an entry for extension 1234567 on the simulator."""
    return make_entry(simulator.url)


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the integration with the mock entry."""
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
def closed_url(socket_enabled: None) -> str:
    """Return an API URL on a loopback port nothing listens on."""
    return f"http://127.0.0.1:{free_port()}/api/0.9.3/call"


@pytest.fixture
async def household_user(hass: HomeAssistant) -> MockUser:
    """Return a user of the default non-administrator group (a household member)."""
    group = await hass.auth.async_get_group(GROUP_ID_USER)
    assert group is not None
    user = MockUser(name="Household", groups=[group]).add_to_hass(hass)
    assert not user.is_admin
    return user
