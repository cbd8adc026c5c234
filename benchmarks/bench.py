"""Benchmark place_call, a contact's button and notify against rest_command, in HA.

Run it with scripts/bench (which prepares the virtual environment):

    scripts/bench                 # full run: the targets decide the exit code
    scripts/bench --short         # CI: fewer calls; fails only on a gross regression
    scripts/bench --json out.json # also write every figure as JSON
    scripts/bench --profile       # cProfile of each path instead of the benchmark

One process runs a real Home Assistant (the test plugin's `async_test_home_assistant`,
on Home Assistant's own event loop) with the integration loaded from custom_components
and rest_command set up from YAML-style config. The provider's simulator
(tests/simulator.py) runs in a second process (benchmarks/simulator_process.py) on
127.0.0.1, so that the server's work does not land on the loop being measured. Every
path goes through Home Assistant's shared client session, to the same URL, with the
same urlencoded form (checked at the simulator before measuring):

1. a raw POST of the form with `async_get_clientsession(hass)`, reading the reply: the
   floor;
2. `rest_command.spectronics`, called as an action (blocking, no response asked for:
   it does not read the reply);
   2b. the same with `return_response=True`, which reads the reply (informative);
3. `spectronics_voip.place_call`, called as an action (blocking, no response asked for),
   on the benchmark's account: cooldown 0 (otherwise every identical call after the
   first is suppressed and never reaches the provider) and a limit of 100 simultaneous
   calls (the default 4 would serialize the concurrency measurement);
   3b. the same on a second account with the default rails: a 30 s cooldown, each call
   to a number of its own so that none is suppressed (limit 100): what the duplicate
   guard and the limiter cost;
4. `button.press` on the "Call" button of a contact of the benchmark's account (the
   same form as 3);
5. `place_call` with a short caller name (`cidname`), and
   5b. `notify.send_message` of that text to the contact's notify entity: the message
   becomes the caller name, so 5 and 5b send the same form.

It also times the set-up of an account with 50 contacts (entry and platforms, until
its 101 entities are in the state machine) beside one with none; an escalation of three
numbers whose first two reject at once, `call_until_answered` against the same story as
a script of `rest_command` in a `repeat`/`until` loop; and 1,000 waiting calls queued
behind the default limit of 4 simultaneous calls (memory per queued call, loop lag).
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
import contextlib
import cProfile
from dataclasses import asdict, dataclass, field
import gc
import io
import json
import logging
import math
import os
from pathlib import Path
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import Any
from unittest.mock import patch
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp.resolver import AsyncResolver
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from homeassistant import loader, runner
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_API_TOKEN, CONF_URL, __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import aiohttp_client, entity_registry as er, frame
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.simulator import ALL_TOKEN, EXTENSION  # noqa: E402

DOMAIN = "spectronics_voip"
SERVICE = "place_call"
REST_NAME = "spectronics"
DESTINATION = "+441632960961"
# The form place_call sends for DESTINATION with the entry's defaults, field for field.
FORM = {
    "auth": ALL_TOKEN,
    "extension": EXTENSION,
    "destination": DESTINATION,
    "reverse": "0",
    "wait": "0",
}
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
FORM_BODY = urlencode(FORM)
RAW_HEADERS = {"Content-Type": FORM_CONTENT_TYPE, "Accept": "text/plain"}
# The same form with wait=1 and the destination a template, for the script.
REST_WAIT_PAYLOAD = (
    urlencode(
        {key: value for key, value in FORM.items() if key != "destination"}
    ).replace("wait=0", "wait=1")
    + "&destination={{ destination }}"
)
# The simulator closes a connection idle this long, so a concurrency round that waits
# a little longer starts with an empty pool: every pending call opens its connection.
SIM_KEEPALIVE = 1.0
LAG_INTERVAL = 0.002
WATCHDOG = 600.0
# The options (CONF_COOLDOWN, CONF_MAX_CONCURRENT_CALLS) of the two accounts.
BENCH_OPTIONS = {"cooldown": 0, "max_concurrent_calls": 100}
RAILS_OPTIONS = {"cooldown": 30, "max_concurrent_calls": 100}
RAILS_UNIQUE_ID = "rails"
# An account with the default rails (a limit of 4 simultaneous calls) for the queue.
QUEUE_UNIQUE_ID = "queue"
QUEUE_LIMIT = 4  # the default simultaneous-call limit
# The escalation: the first two numbers reject (…486) at once, the third answers.
# National numbers: no "+" to escape in the script's urlencoded template.
ESCALATION_NUMBERS = ("01632960486", "01632961486", "01632960962")
REST_WAIT_NAME = "spectronics_wait"
SCRIPT_NAME = "escalate_with_rest_command"
# Core's input_button: what Home Assistant's entity-service path and a button's state
# write cost by themselves, a floor for a press that sends nothing.
FLOOR_BUTTON = "input_button.bench"
# "Ring each number until one answers", as a user would write it without the action.
ESCALATION_SCRIPT = {
    SCRIPT_NAME: {
        "sequence": [
            {"variables": {"numbers": list(ESCALATION_NUMBERS)}},
            {
                "repeat": {
                    "sequence": [
                        {
                            "action": f"rest_command.{REST_WAIT_NAME}",
                            "data": {"destination": "{{ numbers[repeat.index - 1] }}"},
                            "response_variable": "reply",
                        }
                    ],
                    "until": (
                        "{{ reply.content.startswith('OK:')"
                        " or repeat.index >= numbers | length }}"
                    ),
                }
            },
        ]
    }
}
CONTACT = "Bench"
MESSAGE = "Front door"
CID_FORM = FORM | {"cidname": MESSAGE}
SETUP_CONTACTS = (0, 50)
VARIANTS = (
    "raw",
    "rest",
    "rest_reply",
    "place",
    "place_rails",
    "button",
    "place_cid",
    "notify",
)


def _williams(count: int) -> list[list[int]]:
    """Return `count` orders of range(count) forming a Williams square.

    Each index is in each position once and, for an even count, directly after each
    other index once: no path always follows the same one (a path can leave the
    connection pool, the garbage collector or the caches in a state that the next
    one pays for).
    """
    first = [0] + [
        (step + 1) // 2 if step % 2 else count - step // 2 for step in range(1, count)
    ]
    return [[(index + shift) % count for index in first] for shift in range(count)]


ORDERS = tuple(
    tuple(VARIANTS[index] for index in row) for row in _williams(len(VARIANTS))
)
BLOCK = 5
LABELS = {
    "raw": "1. raw aiohttp POST (floor)",
    "rest": "2. rest_command",
    "rest_reply": "2b. rest_command, return_response (reads the reply)",
    "place": "3. spectronics_voip.place_call",
    "place_rails": "3b. place_call, default rails (30 s cooldown, a new number each)",
    "button": "4. button.press, a contact's Call button",
    "place_cid": f'5. place_call, cidname "{MESSAGE}"',
    "notify": f'5b. notify.send_message, message "{MESSAGE}"',
}
# The form each variant sends; place_rails sends FORM to a number of its own.
FORMS = dict.fromkeys(VARIANTS, FORM) | {"place_cid": CID_FORM, "notify": CID_FORM}
IMPORT_PRELUDE = (
    "aiohttp",
    "voluptuous",
    "homeassistant.core",
    "homeassistant.config_entries",
    "homeassistant.data_entry_flow",
    "homeassistant.helpers.aiohttp_client",
    "homeassistant.helpers.config_validation",
    "homeassistant.helpers.selector",
    "homeassistant.components.diagnostics",
)
INTEGRATION_MODULES = (
    "custom_components.spectronics_voip",
    "custom_components.spectronics_voip.config_flow",
    "custom_components.spectronics_voip.diagnostics",
)
_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


@dataclass(frozen=True, slots=True)
class Plan:
    """How many calls each phase makes."""

    name: str
    warmup: int
    interleaved: int
    sequential: int
    in_flight_calls: int
    reloads: int
    import_runs: int
    profile_calls: int
    stubbed: int
    escalations: int
    queued: int = 1000
    sequential_block: int = 50
    in_flight: int = 50
    concurrent: int = 100
    ring_time: float = 3.0


FULL = Plan(
    "full",
    warmup=100,
    interleaved=1000,
    sequential=800,
    in_flight_calls=1200,
    reloads=20,
    import_runs=5,
    profile_calls=3000,
    stubbed=4000,
    escalations=300,
)
SHORT = Plan(
    "short",
    warmup=20,
    interleaved=160,
    sequential=200,
    sequential_block=25,
    in_flight_calls=300,
    reloads=5,
    import_runs=2,
    profile_calls=500,
    stubbed=800,
    escalations=60,
)


@dataclass(slots=True)
class Target:
    """One target of the issue, and whether this run met it."""

    name: str
    limit: str
    value: str
    met: bool


@dataclass(slots=True)
class Results:
    """Every figure of one run."""

    mode: str
    environment: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    gross: list[Target] = field(default_factory=list)


def _out(text: str = "") -> None:
    """Write one line to stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _quantile(values: list[float], q: float) -> float:
    """Return the nearest-rank q-quantile of values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _order(index: int) -> tuple[str, ...]:
    """Return the variants' order for turn `index`."""
    return ORDERS[index % len(ORDERS)]


# --------------------------------------------------------------------------------------
# The simulator, in its own process
# --------------------------------------------------------------------------------------


class SimulatorProcess:
    """benchmarks/simulator_process.py, driven over its stdin and stdout."""

    def __init__(self, ring_time: float) -> None:
        """Start the process and wait for its URL."""
        self._process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "simulator_process.py"),
                "--ring-time",
                str(ring_time),
                "--keepalive",
                str(SIM_KEEPALIVE),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url: str = self._read()["url"]
        self.pid = self._process.pid

    def _read(self) -> dict[str, Any]:
        """Read one JSON line from the process."""
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the simulator process exited (code {self._process.poll()})"
            )
        return json.loads(line)  # type: ignore[no-any-return]

    def command(self, command: str) -> dict[str, Any]:
        """Send one command and return its answer (blocking: run it in an executor)."""
        assert self._process.stdin is not None
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        return self._read()

    def close(self) -> None:
        """Close stdin, which stops the process; kill it if it lingers."""
        with contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


async def _sim(sim: SimulatorProcess, command: str) -> dict[str, Any]:
    """Ask the simulator without blocking the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, sim.command, command)


# --------------------------------------------------------------------------------------
# Import time, in fresh interpreters
# --------------------------------------------------------------------------------------


def measure_import_time(runs: int) -> dict[str, Any]:
    """Time importing the integration's modules after what Home Assistant has loaded.

    A copy of the integration in a temporary folder gets its bytecode written there
    (this environment may set PYTHONDONTWRITEBYTECODE): the first run compiles the
    source, the following ones load the cached bytecode, as Home Assistant does after
    its first start. Sums of `-X importtime` self times; "total" also counts the
    modules of Home Assistant or other packages that the integration imports first.
    """
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        shutil.copytree(
            ROOT / "custom_components" / DOMAIN,
            Path(tmp, "custom_components", DOMAIN),
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        code = "\n".join(
            (
                "import sys",
                *(f"import {module}" for module in IMPORT_PRELUDE),
                f"sys.path.insert(0, {tmp!r})",
                "sys.dont_write_bytecode = False",
                "sys.stderr.write('--- integration ---\\n')",
                *(f"import {module}" for module in INTEGRATION_MODULES),
            )
        )
        samples = [_import_run(code) for _ in range(runs + 1)]
    cached = samples[1:]
    return {
        "cold_own_ms": samples[0][0],
        "cold_total_ms": samples[0][1],
        "own_ms": statistics.median(own for own, _ in cached),
        "total_ms": statistics.median(total for _, total in cached),
        "runs": runs,
    }


def _import_run(code: str) -> tuple[float, float]:
    """Return (own modules, all new modules) import self time in ms, for one run."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    own = total = 0
    seen_marker = False
    for line in result.stderr.splitlines():
        if line.startswith("--- integration ---"):
            seen_marker = True
            continue
        if not seen_marker or not (match := _IMPORTTIME.match(line)):
            continue
        self_us = int(match.group(1))
        total += self_us
        if match.group(3).startswith(f"custom_components.{DOMAIN}"):
            own += self_us
    return own / 1000, total / 1000


# --------------------------------------------------------------------------------------
# Home Assistant
# --------------------------------------------------------------------------------------


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """Create an event loop configured as Home Assistant's runner configures its own."""
    create = getattr(runner, "create_event_loop", None)
    if create is not None:  # 2026.x
        return create()  # type: ignore[no-any-return]
    return runner.HassEventLoopPolicy(False).new_event_loop()  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def _home_assistant() -> Any:
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


def _account(
    url: str,
    *,
    unique_id: str = EXTENSION,
    title: str = f"Extension {EXTENSION}",
    options: dict[str, Any] | None = None,
    contacts: Sequence[str] = (),
) -> MockConfigEntry:
    """Return an account as the config flow makes it, its contacts as subentries."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=unique_id,
        data={CONF_API_TOKEN: ALL_TOKEN, "extension": EXTENSION, CONF_URL: url},
        options=options or {},
        subentries_data=[
            ConfigSubentryData(
                data={"destination": DESTINATION, "reverse": False, "wait": False},
                subentry_type="contact",
                title=name,
                unique_id=None,
            )
            for name in contacts
        ],
    )


@dataclass(frozen=True, slots=True)
class Accounts:
    """The two accounts the calls go through, and the contact's entities."""

    bench: MockConfigEntry
    rails: MockConfigEntry
    queue: MockConfigEntry
    button: str
    notify: str


async def _set_up(
    hass: HomeAssistant, url: str, reloads: int
) -> tuple[Accounts, dict[str, Any]]:
    """Set up rest_command and the two accounts, timing the first one's set-up."""
    assert await async_setup_component(
        hass,
        "rest_command",
        {
            "rest_command": {
                REST_NAME: {
                    "url": url,
                    "method": "post",
                    "payload": FORM_BODY,
                    "content_type": FORM_CONTENT_TYPE,
                },
                REST_WAIT_NAME: {
                    "url": url,
                    "method": "post",
                    "payload": REST_WAIT_PAYLOAD,
                    "content_type": FORM_CONTENT_TYPE,
                },
            }
        },
    )
    assert await async_setup_component(hass, "script", {"script": ESCALATION_SCRIPT})
    assert await async_setup_component(
        hass, "input_button", {"input_button": {"bench": {"name": "Bench"}}}
    )
    start = time.perf_counter()
    integration = await loader.async_get_integration(hass, DOMAIN)
    component = await integration.async_get_component()
    load_time = time.perf_counter() - start
    setup_entry_times: list[float] = []
    original = component.async_setup_entry

    async def timed_setup_entry(hass: HomeAssistant, entry: Any) -> bool:
        start = time.perf_counter()
        try:
            return await original(hass, entry)  # type: ignore[no-any-return]
        finally:
            setup_entry_times.append(time.perf_counter() - start)

    component.async_setup_entry = timed_setup_entry
    entry = _account(url, options=BENCH_OPTIONS, contacts=[CONTACT])
    entry.add_to_hass(hass)
    start = time.perf_counter()
    assert await hass.config_entries.async_setup(entry.entry_id)
    first_setup = time.perf_counter() - start
    await hass.async_block_till_done()
    for _ in range(reloads):
        assert await hass.config_entries.async_reload(entry.entry_id)
    component.async_setup_entry = original
    rails = _account(
        url,
        unique_id=RAILS_UNIQUE_ID,
        title=f"Extension {EXTENSION} (default rails)",
        options=RAILS_OPTIONS,
    )
    rails.add_to_hass(hass)
    assert await hass.config_entries.async_setup(rails.entry_id)
    queue = _account(
        url,
        unique_id=QUEUE_UNIQUE_ID,
        title=f"Extension {EXTENSION} (queue, default rails)",
    )
    queue.add_to_hass(hass)
    assert await hass.config_entries.async_setup(queue.entry_id)
    await hass.async_block_till_done()
    [subentry_id] = entry.subentries
    registry = er.async_get(hass)
    button = registry.async_get_entity_id(
        "button", DOMAIN, f"{entry.entry_id}_{subentry_id}_call"
    )
    notify = registry.async_get_entity_id(
        "notify", DOMAIN, f"{entry.entry_id}_{subentry_id}_notify"
    )
    assert button is not None
    assert notify is not None
    return Accounts(entry, rails, queue, button, notify), {
        "load_integration_ms": load_time * 1000,
        "first_setup_ms": first_setup * 1000,
        "setup_entry_first_ms": setup_entry_times[0] * 1000,
        "setup_entry_median_ms": statistics.median(setup_entry_times[1:]) * 1000
        if reloads
        else setup_entry_times[0] * 1000,
        "reloads": reloads,
        "button": button,
        "notify": notify,
    }


async def _timed_setup(hass: HomeAssistant, entry: MockConfigEntry) -> float:
    """Set up an entry and wait for its platforms; return the seconds it took."""
    start = time.perf_counter()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    elapsed = time.perf_counter() - start
    registry = er.async_get(hass)
    entities = er.async_entries_for_config_entry(registry, entry.entry_id)
    expected = 1 + 2 * len(entry.subentries)
    present = sum(hass.states.get(entity.entity_id) is not None for entity in entities)
    if len(entities) != expected or present != expected:
        raise RuntimeError(
            f"{entry.title}: {present} of {len(entities)} entities in the state "
            f"machine, {expected} expected"
        )
    return elapsed


async def measure_contact_setup(
    hass: HomeAssistant, url: str, reloads: int
) -> dict[str, Any]:
    """Time accounts with 0 and 50 contacts from set-up until all entities exist.

    `async_setup` of the entry (the credential check, the dialer, the devices, and
    the button, event and notify platforms forwarded) plus `async_block_till_done`,
    until every entity is in the state machine: the first set-up (the registries get
    the devices and entities) and, after unloading, each set-up again (the
    registries already know them, as after a restart). The two accounts alternate.
    """
    entries = {
        count: _account(
            url,
            unique_id=f"contacts-{count}",
            title=f"Account with {count} contacts",
            options=BENCH_OPTIONS,
            contacts=[f"Contact {index:02d}" for index in range(1, count + 1)],
        )
        for count in SETUP_CONTACTS
    }
    times: dict[int, list[float]] = {count: [] for count in SETUP_CONTACTS}
    for entry in entries.values():
        entry.add_to_hass(hass)
    for index in range(reloads + 1):
        order = SETUP_CONTACTS if index % 2 == 0 else SETUP_CONTACTS[::-1]
        for count in order:
            times[count].append(await _timed_setup(hass, entries[count]))
        for count in order:
            assert await hass.config_entries.async_unload(entries[count].entry_id)
            await hass.async_block_till_done()
    return {
        str(count): {
            "contacts": count,
            "entities": 1 + 2 * count,
            "first_ms": times[count][0] * 1000,
            "median_ms": statistics.median(times[count][1:]) * 1000
            if reloads
            else times[count][0] * 1000,
            "reloads": reloads,
        }
        for count in SETUP_CONTACTS
    }


type Call = Callable[[], Awaitable[bool]]


def _rails_numbers() -> Iterator[str]:
    """Yield numbers never rung before in this run, so the cooldown holds none back."""
    index = 0
    while True:
        index += 1
        yield f"+4420{index:08d}"


def _calls(hass: HomeAssistant, url: str, accounts: Accounts) -> dict[str, Call]:
    """Return the ways to place the same call."""
    session = async_get_clientsession(hass)
    async_call = hass.services.async_call
    body = FORM_BODY.encode()
    bench_id, rails_id = accounts.bench.entry_id, accounts.rails.entry_id
    # Two accounts are loaded, so every place_call names its own.
    place_data = {"config_entry_id": bench_id, "destination": DESTINATION}
    place_cid_data = place_data | {"cidname": MESSAGE}
    button_data = {"entity_id": accounts.button}
    notify_data = {"entity_id": accounts.notify, "message": MESSAGE}
    numbers = _rails_numbers()

    async def raw() -> bool:
        async with session.post(url, data=body, headers=RAW_HEADERS) as response:
            reply = await response.read()
        return reply.startswith(b"OK:")

    async def rest() -> bool:
        await async_call("rest_command", REST_NAME, blocking=True)
        return True

    async def rest_reply() -> bool:
        response = await async_call(
            "rest_command", REST_NAME, blocking=True, return_response=True
        )
        return response is not None and str(response["content"]).startswith("OK:")

    async def place() -> bool:
        await async_call(DOMAIN, SERVICE, place_data, blocking=True)
        return True

    async def place_rails() -> bool:
        data = {"config_entry_id": rails_id, "destination": next(numbers)}
        await async_call(DOMAIN, SERVICE, data, blocking=True)
        return True

    async def button() -> bool:
        await async_call("button", "press", button_data, blocking=True)
        return True

    async def place_cid() -> bool:
        await async_call(DOMAIN, SERVICE, place_cid_data, blocking=True)
        return True

    async def notify() -> bool:
        await async_call("notify", "send_message", notify_data, blocking=True)
        return True

    calls = {
        "raw": raw,
        "rest": rest,
        "rest_reply": rest_reply,
        "place": place,
        "place_rails": place_rails,
        "button": button,
        "place_cid": place_cid,
        "notify": notify,
    }
    assert tuple(calls) == VARIANTS
    return calls


async def _check_same_form(
    hass: HomeAssistant, sim: SimulatorProcess, calls: dict[str, Call]
) -> None:
    """Check that each variant succeeds and sends the form it should, field for field.

    All send FORM, except place_call with a cidname and notify, which both send
    CID_FORM, and place_call on the account with the default rails, which sends FORM
    to a number of its own each time.
    """
    response = await hass.services.async_call(
        "rest_command", REST_NAME, blocking=True, return_response=True
    )
    assert response is not None
    if not str(response["content"]).startswith("OK:"):
        raise RuntimeError(f"rest_command was refused: {response}")
    bodies = {}
    for name, call in calls.items():
        if not await call():
            raise RuntimeError(f"{name} was refused")
        bodies[name] = await _sim(sim, "last")
    forms = {name: dict(parse_qsl(last["body"])) for name, last in bodies.items()}
    rails = forms["place_rails"]
    if rails.get("destination") == DESTINATION:
        raise RuntimeError(f"place_rails did not use a number of its own: {rails}")
    forms["place_rails"] = rails | {"destination": DESTINATION}
    if any(form != FORMS[name] for name, form in forms.items()):
        raise RuntimeError(f"the variants send other forms than expected: {forms}")
    if any(last["content_type"] != FORM_CONTENT_TYPE for last in bodies.values()):
        raise RuntimeError(f"the variants send different content types: {bodies}")


def _suppressed(accounts: Accounts) -> int:
    """Return how many calls of either account the cooldown held back."""
    return sum(
        entry.runtime_data.counts["suppressed"]
        for entry in (accounts.bench, accounts.rails, accounts.queue)
    )


# --------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------


async def measure_latency(
    calls: dict[str, Call], count: int, warmup: int
) -> dict[str, dict[str, list[float]]]:
    """Time each call: wall time and CPU time of the event loop's thread.

    The variants take turns in blocks of BLOCK calls, each in each position and after
    each other variant equally often (ORDERS), so drift hits all alike. Each block starts with one unmeasured call:
    a call finds the connection pool as the previous call left it, and rest_command,
    which leaves without reading the reply, makes aiohttp close that connection now
    and then. Each variant so pays for the state it leaves itself.
    """
    for index in range(warmup):
        for name in _order(index):
            await calls[name]()
    wall: dict[str, list[float]] = {name: [] for name in VARIANTS}
    cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
    clock, cpu_clock = time.perf_counter, time.thread_time
    for index in range(math.ceil(count / BLOCK)):
        for name in _order(index):
            call = calls[name]
            await call()
            for _ in range(BLOCK):
                cpu_start = cpu_clock()
                start = clock()
                ok = await call()
                wall[name].append(clock() - start)
                cpu[name].append(cpu_clock() - cpu_start)
                if not ok:
                    raise RuntimeError(f"{name} was refused")
    return {"wall": wall, "cpu": cpu}


async def measure_sequential(
    calls: dict[str, Call], count: int, block: int = 50
) -> dict[str, float]:
    """Measure calls per second back to back, in blocks, the variants taking turns."""
    elapsed = dict.fromkeys(VARIANTS, 0.0)
    blocks = max(1, count // block)
    for index in range(blocks):
        for name in _order(index):
            call = calls[name]
            await call()  # unmeasured, as in measure_latency
            start = time.perf_counter()
            for _ in range(block):
                await call()
            elapsed[name] += time.perf_counter() - start
    return {name: blocks * block / elapsed[name] for name in VARIANTS}


async def _in_flight(call: Call, total: int, width: int) -> tuple[float, int]:
    """Run `total` calls with `width` in flight; return (seconds, failed calls)."""
    remaining = total
    failed = 0

    async def worker() -> None:
        nonlocal remaining, failed
        while remaining > 0:
            remaining -= 1
            try:
                ok = await call()
            except (HomeAssistantError, aiohttp.ClientError, TimeoutError):
                ok = False
            failed += not ok

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return time.perf_counter() - start, failed


async def measure_in_flight(
    calls: dict[str, Call], sim: SimulatorProcess, total: int, width: int
) -> dict[str, Any]:
    """Measure calls per second with `width` in flight, counting lost calls."""
    rounds = len(ORDERS)
    per_round = max(width, total // rounds)
    elapsed = dict.fromkeys(VARIANTS, 0.0)
    lost = dict.fromkeys(VARIANTS, 0)
    for index in range(rounds):
        for name in _order(index):
            await _sim(sim, "reset")
            seconds, failed = await _in_flight(calls[name], per_round, width)
            received = (await _sim(sim, "stats"))["calls"]
            elapsed[name] += seconds
            lost[name] += max(failed, per_round - received)
    return {
        "calls_per_s": {name: rounds * per_round / elapsed[name] for name in VARIANTS},
        "lost": lost,
        "calls_each": rounds * per_round,
        "width": width,
    }


def _wait_call(hass: HomeAssistant, entry_id: str) -> Callable[[], Awaitable[Any]]:
    """Return a place_call with wait=1 that returns its response data."""
    data = {"config_entry_id": entry_id, "destination": DESTINATION, "wait": True}

    def call() -> Awaitable[Any]:
        return hass.services.async_call(
            DOMAIN, SERVICE, data, blocking=True, return_response=True
        )

    return call


def _answered(result: Any) -> bool:
    """Whether a wait=1 call came back answered."""
    return (
        isinstance(result, dict)
        and result.get("success") is True
        and result.get("message") == "Call answered"
    )


async def _sample_lag(stop: asyncio.Event, samples: list[tuple[float, float]]) -> None:
    """Record (time, lag) of a 2 ms sleep until stopped: the loop's lateness."""
    clock = time.perf_counter
    while not stop.is_set():
        start = clock()
        await asyncio.sleep(LAG_INTERVAL)
        now = clock()
        samples.append((now, max(0.0, now - start - LAG_INTERVAL)))


async def measure_concurrency(
    hass: HomeAssistant,
    sim: SimulatorProcess,
    entry_id: str,
    count: int,
    ring_time: float,
) -> dict[str, Any]:
    """Start `count` wait=1 calls at once; time them and the loop's lag meanwhile."""
    call = _wait_call(hass, entry_id)
    await _sim(sim, "reset")
    await asyncio.sleep(SIM_KEEPALIVE + 0.5)  # no pooled connection left
    stop = asyncio.Event()
    lag: list[tuple[float, float]] = []
    sampler = asyncio.create_task(_sample_lag(stop, lag))
    await asyncio.sleep(0.5)  # the idle baseline
    finished: list[float] = []
    start = time.perf_counter()

    async def one() -> Any:
        try:
            return await call()
        finally:
            finished.append(time.perf_counter() - start)

    results = await asyncio.gather(
        *(one() for _ in range(count)), return_exceptions=True
    )
    end = time.perf_counter()
    stop.set()
    await sampler
    stats = await _sim(sim, "stats")
    idle = [value for at, value in lag if at < start]
    busy = [value for at, value in lag if start <= at <= end]
    # The calls are all pending from the moment the simulator holds them all until
    # the first reply: the window the target is about.
    pending = [
        value
        for at, value in lag
        if start + 0.25 * ring_time <= at <= start + min(finished) - 0.05
    ] or busy
    answered = sum(_answered(result) for result in results)
    return {
        "count": count,
        "ring_time_s": ring_time,
        "answered": answered,
        "lost": count - answered,
        "max_in_flight_at_simulator": stats["max_in_flight"],
        "first_done_s": min(finished),
        "last_done_s": max(finished),
        "lag_idle_p99_ms": _quantile(idle, 0.99) * 1000,
        "lag_pending_p99_ms": _quantile(pending, 0.99) * 1000,
        "lag_pending_max_ms": max(pending) * 1000,
        "lag_whole_p99_ms": _quantile(busy, 0.99) * 1000,
        "lag_whole_max_ms": max(busy) * 1000,
        "lag_samples": len(busy),
    }


async def measure_memory(
    hass: HomeAssistant,
    sim: SimulatorProcess,
    entry_id: str,
    count: int,
    ring_time: float,
) -> dict[str, Any]:
    """Memory Home Assistant's process holds per pending wait=1 call (tracemalloc)."""
    call = _wait_call(hass, entry_id)
    await _sim(sim, "reset")
    await asyncio.sleep(SIM_KEEPALIVE + 0.5)  # each call opens its own connection
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        snapshot_before = tracemalloc.take_snapshot()
        tasks = [asyncio.create_task(call()) for _ in range(count)]
        await asyncio.sleep(ring_time / 2)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        snapshot = tracemalloc.take_snapshot()
        pending = sum(not task.done() for task in tasks)
        in_flight = (await _sim(sim, "stats"))["in_flight"]
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        tracemalloc.stop()
    top = [
        f"{stat.size_diff / count:8.0f} B  {stat.traceback.format()[0].strip()}"
        for stat in snapshot.compare_to(snapshot_before, "lineno")[:12]
    ]
    answered = sum(_answered(result) for result in results)
    return {
        "count": count,
        "pending_in_ha": pending,
        "in_flight_at_simulator": in_flight,
        "bytes_per_call": held / count,
        "answered": answered,
        "lost": count - answered,
        "top": top,
    }


async def measure_escalation(
    hass: HomeAssistant,
    sim: SimulatorProcess,
    entry_id: str,
    count: int,
    ring_time: float,
) -> dict[str, Any]:
    """Time call_until_answered against a script of rest_command in a repeat loop.

    Three numbers, the first two rejecting at once (the simulator rings for 0 s), the
    third answering: each run sends three wait=1 requests, checked at the simulator
    before measuring. The two take turns, each first every other run.
    """
    data = {"config_entry_id": entry_id, "destinations": list(ESCALATION_NUMBERS)}

    async def integration() -> None:
        response = await hass.services.async_call(
            DOMAIN, "call_until_answered", data, blocking=True, return_response=True
        )
        if response is None or response["answered_by"] != ESCALATION_NUMBERS[-1]:
            raise RuntimeError(f"call_until_answered: {response}")

    async def script() -> None:
        await hass.services.async_call("script", SCRIPT_NAME, blocking=True)

    variants = {"call_until_answered": integration, "script": script}
    await _sim(sim, "ring 0")
    try:
        for name, run in variants.items():
            await _sim(sim, "reset")
            await run()
            stats = await _sim(sim, "stats")
            last = dict(parse_qsl((await _sim(sim, "last"))["body"]))
            if stats["calls"] != len(ESCALATION_NUMBERS) or last != FORM | {
                "destination": ESCALATION_NUMBERS[-1],
                "wait": "1",
            }:
                raise RuntimeError(
                    f"{name} did not ring the three numbers: {stats}, last "
                    f"{ {key: value for key, value in last.items() if key != 'auth'} }"
                )
        times: dict[str, list[float]] = {name: [] for name in variants}
        for index in range(count):
            names = list(variants) if index % 2 == 0 else list(variants)[::-1]
            for name in names:
                start = time.perf_counter()
                await variants[name]()
                times[name].append(time.perf_counter() - start)
        await _sim(sim, "reset")
    finally:
        await _sim(sim, f"ring {ring_time}")
    return {
        name: {
            "median_ms": statistics.median(values) * 1000,
            "p95_ms": _quantile(values, 0.95) * 1000,
        }
        for name, values in times.items()
    } | {"runs": count}


async def measure_queue(
    hass: HomeAssistant,
    sim: SimulatorProcess,
    entry: MockConfigEntry,
    count: int,
    ring_time: float,
) -> dict[str, Any]:
    """Queue `count` wait=1 calls behind the account's limit of 4; memory and lag.

    Each call goes to a number of its own (the account keeps its 30 s cooldown). Once
    all are with the dialer (4 ringing, the rest queued), the memory they hold is
    read (tracemalloc) and the loop's lag sampled for a second; then the simulator
    answers new calls at once and the queue drains, 4 at a time.
    """
    dialer = entry.runtime_data

    def call(index: int) -> Awaitable[Any]:
        data = {
            "config_entry_id": entry.entry_id,
            # Ends in 0: the simulator rejects numbers ending 486, times out 408.
            "destination": f"+4421{index:07d}0",
            "wait": True,
        }
        return hass.services.async_call(
            DOMAIN, SERVICE, data, blocking=True, return_response=True
        )

    await _sim(sim, "reset")
    await asyncio.sleep(SIM_KEEPALIVE + 0.5)  # no pooled connection left
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        tasks = [asyncio.create_task(call(index)) for index in range(count)]
        async with asyncio.timeout(60):
            while sum(dialer.lines.values()) < count:
                await asyncio.sleep(0.01)
        all_queued_s = time.perf_counter() - start
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        lines = dialer.lines
    finally:
        tracemalloc.stop()
    stop = asyncio.Event()
    lag: list[tuple[float, float]] = []
    sampler = asyncio.create_task(_sample_lag(stop, lag))
    await asyncio.sleep(min(1.0, ring_time / 2))
    queued_lag = [value for _, value in lag]
    await _sim(sim, "ring 0")
    drain_start = time.perf_counter()
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await _sim(sim, f"ring {ring_time}")
    drained_s = time.perf_counter() - drain_start
    stop.set()
    await sampler
    drain_lag = [value for at, value in lag if at >= drain_start]
    stats = await _sim(sim, "stats")
    answered = sum(_answered(result) for result in results)
    failures = Counter(
        repr(result)[:200] for result in results if not _answered(result)
    )
    return {
        "count": count,
        "limit": QUEUE_LIMIT,
        "failures": dict(failures),
        "lines_when_queued": lines,
        "all_queued_s": all_queued_s,
        "bytes_per_call": held / count,
        "lag_queued_p99_ms": _quantile(queued_lag, 0.99) * 1000,
        "lag_queued_max_ms": max(queued_lag) * 1000,
        "lag_drain_p99_ms": _quantile(drain_lag, 0.99) * 1000 if drain_lag else 0.0,
        "lag_drain_max_ms": max(drain_lag) * 1000 if drain_lag else 0.0,
        "drained_s": drained_s,
        "answered": answered,
        "lost": count - answered,
        "max_in_flight_at_simulator": stats["max_in_flight"],
    }


STUBBED = ("place", "place_rails", "button", "place_cid", "notify")


async def measure_stubbed(
    hass: HomeAssistant, calls: dict[str, Call], accounts: Accounts, count: int
) -> dict[str, float]:
    """Time the integration's paths with the client's POST replaced by an OK.

    What is left is the CPU time of Home Assistant's action or entity-service call
    and of the integration (validation, rails, task, event, "Last call"): steadier
    than the figures with the network, and what the paths differ by. Blocks of 20
    calls, the paths taking turns; the median of the blocks' means, per call. Core's
    input_button, pressed in the same turns, is the floor of any press: Home
    Assistant's entity service and the button's own state write, nothing sent.
    """
    # Imported here, once Home Assistant's loader has imported the integration.
    from custom_components.spectronics_voip.api import CallResult  # noqa: PLC0415

    clients = [entry.runtime_data.client for entry in (accounts.bench, accounts.rails)]

    async def accepted(request: Any, *, wait_timeout: float | None = None) -> Any:
        return CallResult(request, "Call request sent")

    floor_data = {"entity_id": FLOOR_BUTTON}

    async def floor() -> bool:
        await hass.services.async_call(
            "input_button", "press", floor_data, blocking=True
        )
        return True

    calls = calls | {"floor_button": floor}
    block = 20
    per_call: dict[str, list[float]] = {name: [] for name in (*STUBBED, "floor_button")}
    orders = [
        [name for name in order if name in STUBBED] + ["floor_button"]
        for order in ORDERS
    ]
    for client in clients:
        client.place_call = accepted  # type: ignore[method-assign]
    try:
        for index in range(max(1, count // block)):
            for name in orders[index % len(orders)]:
                call = calls[name]
                await call()
                start = time.perf_counter()
                for _ in range(block):
                    await call()
                per_call[name].append((time.perf_counter() - start) / block)
    finally:
        for client in clients:
            del client.place_call
    return {name: statistics.median(values) * 1e6 for name, values in per_call.items()}


async def run_profile(calls: dict[str, Call], count: int, out_dir: Path | None) -> None:
    """Print a cProfile of `count` calls of each variant, heaviest functions first."""
    for name in ("place", "place_rails", "button", "notify", "rest", "raw"):
        call = calls[name]
        for _ in range(50):
            await call()
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        for _ in range(count):
            await call()
        profile.disable()
        elapsed = time.perf_counter() - start
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            profile.dump_stats(out_dir / f"{name}.prof")
        for order in ("tottime", "cumulative"):
            text = io.StringIO()
            stats = pstats.Stats(profile, stream=text)
            stats.sort_stats(order).print_stats(30)
            _out(
                f"\n### {LABELS[name]}: {count} calls, {elapsed / count * 1e6:.0f} µs "
                f"per call under the profiler, by {order}\n"
            )
            _out(_shorten(text.getvalue()))


def _shorten(text: str) -> str:
    """Strip site-packages and the repo from the paths in a pstats listing."""
    text = re.sub(r"\S*/site-packages/", "", text)
    text = re.sub(r"\S*/lib/python3\.\d+/", "", text)
    return text.replace(str(ROOT) + "/", "")


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


async def _benchmark(plan: Plan, args: argparse.Namespace, results: Results) -> None:
    """Run every phase against one simulator process and one Home Assistant."""
    sim = SimulatorProcess(plan.ring_time)
    try:
        async with _home_assistant() as hass:
            accounts, setup = await _set_up(hass, sim.url, plan.reloads)
            results.figures["setup"] = setup
            results.figures["contact_setup"] = await measure_contact_setup(
                hass, sim.url, plan.reloads
            )
            calls = _calls(hass, sim.url, accounts)
            await _check_same_form(hass, sim, calls)
            bench_id = accounts.bench.entry_id
            if args.profile:
                await run_profile(calls, plan.profile_calls, args.profile_dir)
                return
            _out(f"  latency: {plan.interleaved} calls each, interleaved …")
            latency = await measure_latency(calls, plan.interleaved, plan.warmup)
            results.figures["latency"] = {
                name: {
                    "calls": len(values),
                    "median_us": statistics.median(values) * 1e6,
                    "p95_us": _quantile(values, 0.95) * 1e6,
                    "mean_us": statistics.fmean(values) * 1e6,
                    "cpu_median_us": statistics.median(latency["cpu"][name]) * 1e6,
                }
                for name, values in latency["wall"].items()
            }
            _out(f"  memory: {plan.concurrent} pending wait=1 calls …")
            results.figures["memory"] = await measure_memory(
                hass, sim, bench_id, plan.concurrent, plan.ring_time
            )
            _out(f"  concurrency: {plan.concurrent} wait=1 calls at once …")
            results.figures["concurrency"] = await measure_concurrency(
                hass, sim, bench_id, plan.concurrent, plan.ring_time
            )
            # The concurrency round leaves 100 idle connections that the simulator
            # closes after SIM_KEEPALIVE: let it, so that no call reuses one as it does
            # (the request would be lost, and no path may retry it).
            await asyncio.sleep(SIM_KEEPALIVE + 0.5)
            _out(f"  throughput: {plan.sequential} sequential calls each …")
            results.figures["sequential_calls_per_s"] = await measure_sequential(
                calls, plan.sequential, plan.sequential_block
            )
            _out(
                f"  throughput: {plan.in_flight_calls} calls each, "
                f"{plan.in_flight} in flight …"
            )
            results.figures["in_flight"] = await measure_in_flight(
                calls, sim, plan.in_flight_calls, plan.in_flight
            )
            _out(
                f"  escalation: {plan.escalations} runs each, call_until_answered "
                "and a rest_command script …"
            )
            results.figures["escalation"] = await measure_escalation(
                hass, sim, bench_id, plan.escalations, plan.ring_time
            )
            _out(f"  queue: {plan.queued} wait=1 calls behind a limit of 4 …")
            results.figures["queue"] = await measure_queue(
                hass, sim, accounts.queue, plan.queued, plan.ring_time
            )
            _out(f"  without the network: {plan.stubbed} calls each …")
            results.figures["stubbed_us"] = await measure_stubbed(
                hass, calls, accounts, plan.stubbed
            )
            results.figures["suppressed_calls"] = _suppressed(accounts)
            session = async_get_clientsession(hass)
            results.figures["connection_limits"] = {
                "per_host": session.connector.limit_per_host
                if session.connector
                else None,
                "total": session.connector.limit if session.connector else None,
                "MAXIMUM_CONNECTIONS_PER_HOST": aiohttp_client.MAXIMUM_CONNECTIONS_PER_HOST,
                "MAXIMUM_CONNECTIONS": aiohttp_client.MAXIMUM_CONNECTIONS,
            }
    finally:
        sim.close()


def _judge(plan: Plan, results: Results) -> None:
    """Compare the figures with the targets."""
    figures = results.figures
    latency = figures["latency"]
    median = {name: values["median_us"] for name, values in latency.items()}
    place, rest, raw = median["place"], median["rest"], median["raw"]
    rails, button, notify = median["place_rails"], median["button"], median["notify"]
    place_cid = median["place_cid"]
    figures["ratios"] = {
        "place_over_raw": place / raw,
        "place_over_rest": place / rest,
        "place_over_rest_cpu": latency["place"]["cpu_median_us"]
        / latency["rest"]["cpu_median_us"],
        "rails_over_place": rails / place,
        "rails_over_rest": rails / rest,
        "button_over_place": button / place,
        "notify_over_place_cid": notify / place_cid,
        "notify_over_place": notify / place,
        "place_cid_over_place": place_cid / place,
    }
    ratios = figures["ratios"]
    contacts = figures["contact_setup"]
    most = contacts[str(max(SETUP_CONTACTS))]
    suppressed = figures["suppressed_calls"]
    concurrency = figures["concurrency"]
    memory = figures["memory"]
    setup = figures["setup"]
    escalation = figures["escalation"]
    queue = figures["queue"]
    escalation_ratio = (
        escalation["call_until_answered"]["median_ms"]
        / escalation["script"]["median_ms"]
    )
    ratios["escalation_over_script"] = escalation_ratio
    lost = (
        concurrency["lost"]
        + memory["lost"]
        + queue["lost"]
        + sum(figures["in_flight"]["lost"].values())
    )
    figures["lost_calls"] = lost
    ring = plan.ring_time
    results.targets = [
        Target(
            "place_call median ≤ 1.0 × rest_command median",
            "≤ 1.00 ×",
            f"{place / rest:.2f} ×",
            place <= rest,
        ),
        Target(
            "place_call median ≤ 2.0 × raw POST median",
            "≤ 2.00 ×",
            f"{place / raw:.2f} ×",
            place <= 2 * raw,
        ),
        Target(
            "place_call with the default rails ≤ 1.15 × rest_command (issue 8)",
            "≤ 1.15 ×",
            f"{ratios['rails_over_rest']:.2f} ×",
            rails <= 1.15 * rest,
        ),
        Target(
            "button press median ≤ 1.10 × place_call median",
            "≤ 1.10 ×",
            f"{ratios['button_over_place']:.2f} ×",
            button <= 1.10 * place,
        ),
        Target(
            "notify median ≤ 1.10 × place_call (same cidname) median",
            "≤ 1.10 ×",
            f"{ratios['notify_over_place_cid']:.2f} ×",
            notify <= 1.10 * place_cid,
        ),
        Target(
            f"set-up of an account with {most['contacts']} contacts until its "
            f"{most['entities']} entities exist (first)",
            "< 100 ms",
            f"{most['first_ms']:.1f} ms",
            most["first_ms"] < 100,
        ),
        Target(
            f"event-loop lag p99, {concurrency['count']} wait=1 calls pending",
            "< 10 ms",
            f"{concurrency['lag_pending_p99_ms']:.2f} ms",
            concurrency["lag_pending_p99_ms"] < 10,
        ),
        Target(
            "memory per pending wait=1 call",
            "< 64 KiB",
            f"{memory['bytes_per_call'] / 1024:.1f} KiB",
            memory["bytes_per_call"] < 64 * 1024,
        ),
        Target(
            "async_setup_entry against the simulator (first)",
            "< 50 ms",
            f"{setup['setup_entry_first_ms']:.1f} ms",
            setup["setup_entry_first_ms"] < 50,
        ),
        Target(
            "call_until_answered, 3 numbers (2 reject at once) ≤ 1.0 × the same as a "
            "rest_command script (issue 8)",
            "≤ 1.00 ×",
            f"{escalation_ratio:.2f} ×",
            escalation_ratio <= 1.0,
        ),
        Target(
            f"event-loop lag p99, {queue['count']} wait=1 calls queued behind a limit "
            f"of {queue['limit']}",
            "< 10 ms",
            f"{queue['lag_queued_p99_ms']:.2f} ms",
            queue["lag_queued_p99_ms"] < 10,
        ),
        Target(
            "memory per queued wait=1 call",
            "< 64 KiB",
            f"{queue['bytes_per_call'] / 1024:.1f} KiB",
            queue["bytes_per_call"] < 64 * 1024,
        ),
        Target(
            f"{concurrency['count']} concurrent wait=1 calls all answered",
            f"≤ {1.5 * ring:g} s (1.5 × ring time)",
            f"{concurrency['last_done_s']:.2f} s, {concurrency['lost']} lost",
            concurrency["last_done_s"] <= 1.5 * ring and concurrency["lost"] == 0,
        ),
    ]
    results.gross = [
        Target(
            "place_call median ≤ 2 × rest_command median",
            "≤ 2.00 ×",
            f"{place / rest:.2f} ×",
            place <= 2 * rest,
        ),
        Target(
            "button press and notify ≤ 2 × place_call (their own) median",
            "≤ 2.00 ×",
            f"{ratios['button_over_place']:.2f} × / "
            f"{ratios['notify_over_place_cid']:.2f} ×",
            button <= 2 * place and notify <= 2 * place_cid,
        ),
        Target(
            "call_until_answered ≤ 2 × the rest_command script",
            "≤ 2.00 ×",
            f"{escalation_ratio:.2f} ×",
            escalation_ratio <= 2,
        ),
        Target("no concurrent or queued call lost", "0", str(lost), lost == 0),
        Target(
            f"queued calls never more than {queue['limit']} at the provider",
            f"≤ {queue['limit']}",
            str(queue["max_in_flight_at_simulator"]),
            queue["max_in_flight_at_simulator"] <= queue["limit"],
        ),
        Target(
            "no call held back by the cooldown (each reached the provider)",
            "0",
            str(suppressed),
            suppressed == 0,
        ),
    ]


def _report(plan: Plan, results: Results, command: str) -> None:
    """Print the tables, in Markdown."""
    env = results.environment
    figures = results.figures
    latency = figures["latency"]
    sequential = figures["sequential_calls_per_s"]
    in_flight = figures["in_flight"]
    _out()
    _out(
        f"Mode {plan.name}: `{command}` — Python {env['python']}, Home Assistant "
        f"{env['homeassistant']}, aiohttp {env['aiohttp']}, {env['cpus']} CPUs, "
        f"load average {env['load_before']} before the run."
    )
    _out()
    _out(
        "| Path | median µs | p95 µs | loop CPU µs | sequential calls/s | "
        f"calls/s, {in_flight['width']} in flight |"
    )
    _out("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in VARIANTS:
        _out(
            f"| {LABELS[name]} | {latency[name]['median_us']:.0f} | "
            f"{latency[name]['p95_us']:.0f} | {latency[name]['cpu_median_us']:.0f} | "
            f"{sequential[name]:.0f} | {in_flight['calls_per_s'][name]:.0f} |"
        )
    ratios = figures["ratios"]
    _out()
    _out(
        f"Latency: {latency['place']['calls']} calls per path, interleaved in blocks of "
        f"{BLOCK}. Ratios of medians: place_call / raw POST = "
        f"{ratios['place_over_raw']:.2f}, place_call / rest_command = "
        f"{ratios['place_over_rest']:.2f}; place_call takes "
        f"{latency['place']['median_us'] - latency['raw']['median_us']:.0f} µs more "
        "than the raw POST. Loop CPU: median CPU time of the event loop's thread per "
        f"call (place_call / rest_command = {ratios['place_over_rest_cpu']:.2f}). "
        f"Throughput: {plan.sequential} sequential calls and "
        f"{in_flight['calls_each']} calls with {in_flight['width']} in flight per path."
    )
    _out()
    _out(
        "Rails: place_call on an account with the default rails (30 s cooldown, each "
        "call to a new number; limit 100) / with cooldown 0 = "
        f"{ratios['rails_over_place']:.2f} "
        f"({latency['place_rails']['median_us'] - latency['place']['median_us']:+.0f}"
        " µs; / rest_command = "
        f"{ratios['rails_over_rest']:.2f}). Entities: button press / place_call = "
        f"{ratios['button_over_place']:.2f}; notify / place_call with the same cidname "
        f"= {ratios['notify_over_place_cid']:.2f} (notify / place_call = "
        f"{ratios['notify_over_place']:.2f}). Calls held back by the cooldown in the "
        f"whole run: {figures['suppressed_calls']}."
    )
    stubbed = figures["stubbed_us"]
    _out()
    _out(
        "| Without the network (the client's POST replaced by an immediate OK) | "
        "µs per call | × place_call (its own) |"
    )
    _out("| --- | ---: | ---: |")
    for name in STUBBED:
        own = "place_cid" if name == "notify" else "place"
        _out(
            f"| {LABELS[name]} | {stubbed[name]:.0f} | "
            f"{stubbed[name] / stubbed[own]:.2f} |"
        )
    _out(
        "| floor: `input_button.press`, core's helper button (sends nothing) | "
        f"{stubbed['floor_button']:.0f} | – |"
    )
    escalation = figures["escalation"]
    _out()
    _out(
        f"Escalation, {escalation['runs']} runs each, taking turns: three numbers, the "
        "first two rejecting at once, the third answering (three wait=1 requests). "
        "`call_until_answered` median "
        f"{escalation['call_until_answered']['median_ms']:.2f} ms (p95 "
        f"{escalation['call_until_answered']['p95_ms']:.2f} ms); the same as a "
        "script of `rest_command` in a `repeat`/`until` loop median "
        f"{escalation['script']['median_ms']:.2f} ms (p95 "
        f"{escalation['script']['p95_ms']:.2f} ms): "
        f"{ratios['escalation_over_script']:.2f} ×."
    )
    concurrency = figures["concurrency"]
    memory = figures["memory"]
    setup = figures["setup"]
    imports = figures["import"]
    limits = figures["connection_limits"]
    _out()
    _out("| Other figure | value |")
    _out("| --- | ---: |")
    c, m, q = concurrency, memory, figures["queue"]
    rows = [
        (
            (
                f"{c['count']} wait=1 calls at once, ring time {c['ring_time_s']:g} s: "
                "first / last answered"
            ),
            f"{c['first_done_s']:.2f} s / {c['last_done_s']:.2f} s",
        ),
        (
            "… answered / most in flight at the simulator",
            f"{c['answered']} / {c['max_in_flight_at_simulator']}",
        ),
        (
            "… event-loop lag p99 (max) while all are pending",
            f"{c['lag_pending_p99_ms']:.2f} ms ({c['lag_pending_max_ms']:.2f} ms)",
        ),
        (
            "… event-loop lag p99 (max) from the start to the last answer",
            f"{c['lag_whole_p99_ms']:.2f} ms ({c['lag_whole_max_ms']:.2f} ms)",
        ),
        ("… event-loop lag p99, idle", f"{c['lag_idle_p99_ms']:.2f} ms"),
        (
            (
                f"memory per pending wait=1 call ({m['count']} pending, own connection "
                "included)"
            ),
            f"{m['bytes_per_call'] / 1024:.1f} KiB",
        ),
        (
            "… calls pending at that moment in Home Assistant / at the simulator",
            f"{m['pending_in_ha']} / {m['in_flight_at_simulator']}",
        ),
        (
            (
                f"{q['count']} wait=1 calls queued behind a limit of {q['limit']} "
                "(default rails): memory per queued call"
            ),
            f"{q['bytes_per_call'] / 1024:.1f} KiB",
        ),
        (
            "… lines in use / queued once all reached the dialer (after)",
            (
                f"{q['lines_when_queued']['active']} / {q['lines_when_queued']['queued']}"
                f" ({q['all_queued_s']:.2f} s)"
            ),
        ),
        (
            "… event-loop lag p99 (max) while queued / while draining",
            (
                f"{q['lag_queued_p99_ms']:.2f} ms ({q['lag_queued_max_ms']:.2f} ms) / "
                f"{q['lag_drain_p99_ms']:.2f} ms ({q['lag_drain_max_ms']:.2f} ms)"
            ),
        ),
        (
            "… answered / most in flight at the simulator / drained in",
            (
                f"{q['answered']} / {q['max_in_flight_at_simulator']} / "
                f"{q['drained_s']:.2f} s"
            ),
        ),
        (
            "async_setup_entry, first (the benchmark's account, 1 contact)",
            f"{setup['setup_entry_first_ms']:.1f} ms",
        ),
        (
            f"async_setup_entry, median of {setup['reloads']} reloads",
            f"{setup['setup_entry_median_ms']:.1f} ms",
        ),
        (
            "first set-up of the entry (async_setup + async_setup_entry)",
            f"{setup['first_setup_ms']:.1f} ms",
        ),
        *(
            (
                (
                    f"account with {contact['contacts']} contacts: set-up until its "
                    f"{contact['entities']} entities exist, first / median of "
                    f"{contact['reloads']} more"
                ),
                f"{contact['first_ms']:.1f} ms / {contact['median_ms']:.1f} ms",
            )
            for contact in figures["contact_setup"].values()
        ),
        (
            (
                f"import of the integration's modules, cached bytecode (median of "
                f"{imports['runs']})"
            ),
            (
                f"{imports['own_ms']:.1f} ms ({imports['total_ms']:.1f} ms with the "
                "modules it imports first)"
            ),
        ),
        (
            "import of the integration's modules, compiling the source",
            f"{imports['cold_own_ms']:.1f} ms",
        ),
        (
            "shared session's connection limit per host / total",
            f"{limits['per_host']} / {limits['total']}",
        ),
    ]
    for name, value in rows:
        _out(f"| {name} | {value} |")
    _out()
    _out(
        "| Target | limit | this run | |\n| --- | --- | --- | --- |"
        if plan is FULL
        else "| Target (full run only; informative here) | limit | this run | |\n"
        "| --- | --- | --- | --- |"
    )
    for target in results.targets:
        _out(
            f"| {target.name} | {target.limit} | {target.value} | "
            f"{'met' if target.met else '**missed**'} |"
        )
    _out()
    _out("| Gross-regression check (gates --short) | limit | this run | |")
    _out("| --- | --- | --- | --- |")
    for target in results.gross:
        _out(
            f"| {target.name} | {target.limit} | {target.value} | "
            f"{'ok' if target.met else '**FAILED**'} |"
        )
    if concurrency["count"] > limits["per_host"]:
        _out(
            f"\nNote: {concurrency['count']} concurrent calls need "
            f"{concurrency['count']} connections to one host; Home Assistant's shared "
            f"session allows {limits['per_host']} per host, so the rest queue."
        )
    else:
        _out(
            f"\nNote: {concurrency['count']} concurrent wait=1 calls hold "
            f"{concurrency['count']} connections to one host; the shared session allows "
            f"{limits['per_host']} per host ({limits['total']} in all), so the target "
            "fits"
            + (
                " with no room to spare: one more would wait a full ring time."
                if concurrency["count"] == limits["per_host"]
                else "."
            )
        )


def _environment() -> dict[str, Any]:
    """Describe the machine and the versions."""
    return {
        "python": platform.python_version(),
        "homeassistant": HA_VERSION,
        "aiohttp": aiohttp.__version__,
        "cpus": os.cpu_count(),
        "load_before": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "platform": platform.platform(),
    }


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the options."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="fewer calls; exit non-zero only on a gross regression (for CI)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print a cProfile of each path instead of benchmarking",
    )
    parser.add_argument(
        "--profile-dir", type=Path, help="with --profile: write <path>.prof files here"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also list where the memory of the pending calls is allocated",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit code."""
    args = _parse_args(argv)
    plan = SHORT if args.short else FULL
    command = "scripts/bench" + (" --short" if args.short else "")
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    # "We found a custom integration … which has not been tested by Home Assistant".
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)
    results = Results(plan.name, _environment())
    started = time.perf_counter()
    _out(
        f"Benchmark ({plan.name}) on Python {results.environment['python']}, "
        f"Home Assistant {HA_VERSION}"
    )
    if not args.profile:
        _out(f"  import time: {plan.import_runs + 1} fresh interpreters …")
        results.figures["import"] = measure_import_time(plan.import_runs)
    loop = _new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(
            asyncio.wait_for(_benchmark(plan, args, results), WATCHDOG)
        )
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
    if args.profile:
        return 0
    _judge(plan, results)
    _report(plan, results, command)
    results.figures["duration_s"] = time.perf_counter() - started
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "mode": results.mode,
                    "environment": results.environment,
                    "figures": results.figures,
                    "targets": [asdict(target) for target in results.targets],
                    "gross": [asdict(target) for target in results.gross],
                },
                indent=2,
                default=str,
            )
        )
    if not args.verbose:
        results.figures["memory"].pop("top")
    else:
        _out("\nWhere the memory of one pending call is allocated (bytes per call):")
        for line in results.figures["memory"]["top"]:
            _out(f"    {line}")
    _out(f"\n({results.figures['duration_s']:.0f} s)")
    gross_failed = [target.name for target in results.gross if not target.met]
    missed = [target.name for target in results.targets if not target.met]
    if gross_failed:
        _out(f"FAILED: gross regression: {'; '.join(gross_failed)}")
        return 1
    if missed and plan is FULL:
        _out(f"FAILED: target missed: {'; '.join(missed)}")
        return 1
    if missed:
        _out(f"Targets missed in this short run (not gating): {'; '.join(missed)}")
    _out("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
