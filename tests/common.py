"""Helpers shared by the tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spectronics_voip.const import CONF_EXTENSION, DOMAIN
from homeassistant.const import CONF_API_TOKEN, CONF_URL

from .simulator import ALL_TOKEN, EXTENSION


def make_entry(
    url: str,
    *,
    extension: str = EXTENSION,
    token: str = ALL_TOKEN,
    options: Mapping[str, Any] | None = None,
) -> MockConfigEntry:
    """Return an entry for one extension, as the config flow creates it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Extension {extension}",
        unique_id=extension,
        data={CONF_API_TOKEN: token, CONF_EXTENSION: extension, CONF_URL: url},
        options=dict(options or {}),
    )
