"""A real Home Assistant in this process, on an event loop set up as its runner's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
import contextlib
import tempfile
from typing import Any
from unittest.mock import patch

from aiohttp.resolver import AsyncResolver
from pytest_homeassistant_custom_component.common import async_test_home_assistant  # type: ignore[import-untyped]

from benchmarks.harness.config import DOMAIN
from homeassistant import loader, runner
from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame

WATCHDOG = 600.0


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """Create an event loop configured as Home Assistant's runner configures its own."""
    create = getattr(runner, "create_event_loop", None)
    if create is not None:  # 2026.x
        loop: asyncio.AbstractEventLoop = create()
        return loop
    return runner.HassEventLoopPolicy(False).new_event_loop()


def run[T](main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on a new event loop like Home Assistant's, within the watchdog."""
    loop = _new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(asyncio.wait_for(main, WATCHDOG))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()


@contextlib.asynccontextmanager
async def home_assistant() -> AsyncIterator[HomeAssistant]:
    """Yield a running Home Assistant that loads custom_components from the repo."""
    # The shared session's resolver needs zeroconf, which needs the network
    # integration; as the test plugin does, use aiohttp's resolver instead. It is never
    # asked: aiohttp does not resolve an IP address such as 127.0.0.1.
    resolver = AsyncResolver()
    resolver.real_close = resolver.close  # type: ignore[attr-defined]  # HA 2026.x
    with (
        tempfile.TemporaryDirectory(prefix="bench-config-") as config_dir,
        patch(
            "homeassistant.helpers.aiohttp_client._async_make_resolver",
            return_value=resolver,
        ),
    ):
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            # What the plugin's enable_custom_integrations fixture does: drop the empty
            # cache so that the loader scans custom_components on sys.path (the repo).
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
            frame.async_setup(hass)
            try:
                yield hass
            finally:
                for entry in hass.config_entries.async_entries(DOMAIN):
                    await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_stop(force=True)
