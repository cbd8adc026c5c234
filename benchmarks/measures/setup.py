"""Set-up measures: importing the integration, setting up an account, contacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.figures import Figures, Target, below
from benchmarks.harness import Bench
from benchmarks.harness.accounts import account
from benchmarks.harness.config import BENCH_OPTIONS, DOMAIN, ROOT
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

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
SETUP_CONTACTS = (0, 50)
# An account's own entities (Last call, Stop calls, and the calls today and in the last
# hour), and those of a contact whose number rings first (Call, and notify).
ACCOUNT_ENTITIES = 4
CONTACT_ENTITIES = 2


@dataclass(frozen=True, slots=True)
class ImportFigures(Figures):
    """Import time of the integration's modules, in ms."""

    cold_own_ms: float
    cold_total_ms: float
    own_ms: float
    total_ms: float
    runs: int

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return the cached and the compiling import times."""
        return (
            (
                (
                    "import of the integration's modules, cached bytecode (median of "
                    f"{self.runs})"
                ),
                (
                    f"{self.own_ms:.1f} ms ({self.total_ms:.1f} ms with the modules it "
                    "imports first)"
                ),
            ),
            (
                "import of the integration's modules, compiling the source",
                f"{self.cold_own_ms:.1f} ms",
            ),
        )


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


def _import_times(runs: int) -> ImportFigures:
    """Time importing the integration's modules in `runs` + 1 fresh interpreters."""
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
    return ImportFigures(
        cold_own_ms=samples[0][0],
        cold_total_ms=samples[0][1],
        own_ms=statistics.median(own for own, _ in cached),
        total_ms=statistics.median(total for _, total in cached),
        runs=runs,
    )


async def import_time(bench: Bench) -> ImportFigures:
    """Time importing the integration's modules after what Home Assistant has loaded.

    A copy of the integration in a temporary folder gets its bytecode written there
    (this environment may set PYTHONDONTWRITEBYTECODE): the first run compiles the
    source, the following ones load the cached bytecode, as Home Assistant does after
    its first start. Sums of `-X importtime` self times; "total" also counts the
    modules of Home Assistant or other packages that the integration imports first.
    """
    runs = bench.plan.import_runs
    bench.progress(f"import time: {runs + 1} fresh interpreters")
    return await bench.hass.async_add_executor_job(_import_times, runs)


@dataclass(frozen=True, slots=True)
class SetupFigures(Figures):
    """How long the benchmark's account took to set up, in ms."""

    load_integration_ms: float
    first_setup_ms: float
    setup_entry_first_ms: float
    setup_entry_median_ms: float
    reloads: int
    button: str
    notify: str

    def targets(self) -> Sequence[Target]:
        """Return the issue's target for the first async_setup_entry."""
        return (
            below(
                "async_setup_entry against the simulator (first)",
                self.setup_entry_first_ms,
                50,
                "ms",
                digits=1,
            ),
        )

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return the first set-up and the reloads."""
        return (
            (
                "async_setup_entry, first (the benchmark's account, 1 contact)",
                f"{self.setup_entry_first_ms:.1f} ms",
            ),
            (
                f"async_setup_entry, median of {self.reloads} reloads",
                f"{self.setup_entry_median_ms:.1f} ms",
            ),
            (
                "first set-up of the entry (async_setup + async_setup_entry)",
                f"{self.first_setup_ms:.1f} ms",
            ),
        )


async def entry_setup(bench: Bench) -> SetupFigures:
    """Report the benchmark account's set-up, which the harness timed as it set it up.

    Its first set-up is the first of the integration in this Home Assistant, so it
    can only be timed as the harness starts: the credential check, the dialer, the
    devices, the platforms forwarded. Then `reloads` reloads.
    """
    times = bench.setup_times
    first, *reloads = times.setup_entry_s
    return SetupFigures(
        load_integration_ms=times.load_integration_s * 1000,
        first_setup_ms=times.first_setup_s * 1000,
        setup_entry_first_ms=first * 1000,
        setup_entry_median_ms=statistics.median(reloads or [first]) * 1000,
        reloads=len(reloads),
        button=bench.accounts.button,
        notify=bench.accounts.notify,
    )


@dataclass(frozen=True, slots=True)
class ContactSetup:
    """How long an account with `contacts` contacts took until its entities existed."""

    contacts: int
    entities: int
    first_ms: float
    median_ms: float
    reloads: int


@dataclass(frozen=True, slots=True)
class ContactSetupFigures(Figures):
    """Set-up of accounts with 0 and with 50 contacts."""

    accounts: tuple[ContactSetup, ...]

    def targets(self) -> Sequence[Target]:
        """Return the issue's target for the account with the most contacts."""
        most = self.accounts[-1]
        return (
            below(
                f"set-up of an account with {most.contacts} contacts until its "
                f"{most.entities} entities exist (first)",
                most.first_ms,
                100,
                "ms",
                digits=1,
            ),
        )

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return each account's first set-up and the median of the others."""
        return tuple(
            (
                (
                    f"account with {setup.contacts} contacts: set-up until its "
                    f"{setup.entities} entities exist, first / median of "
                    f"{setup.reloads} more"
                ),
                f"{setup.first_ms:.1f} ms / {setup.median_ms:.1f} ms",
            )
            for setup in self.accounts
        )

    def json(self) -> object:
        """Return the accounts by their number of contacts."""
        return {str(setup.contacts): asdict(setup) for setup in self.accounts}


async def _timed_setup(hass: HomeAssistant, entry: ConfigEntry) -> float:
    """Set up an entry and wait for its platforms; return the seconds it took."""
    start = time.perf_counter()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    elapsed = time.perf_counter() - start
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    expected = ACCOUNT_ENTITIES + CONTACT_ENTITIES * len(entry.subentries)
    present = sum(hass.states.get(entity.entity_id) is not None for entity in entities)
    if len(entities) != expected or present != expected:
        raise RuntimeError(
            f"{entry.title}: {present} of {len(entities)} entities in the state "
            f"machine, {expected} expected"
        )
    return elapsed


async def contact_setup(bench: Bench) -> ContactSetupFigures:
    """Time accounts with 0 and 50 contacts from set-up until all entities exist.

    `async_setup` of the entry (the credential check, the dialer, the devices, and
    the button, event, notify and sensor platforms forwarded) plus `async_block_till_done`,
    until every entity is in the state machine: the first set-up (the registries get
    the devices and entities) and, after unloading, each set-up again (the
    registries already know them, as after a restart). The two accounts alternate.
    """
    hass, reloads = bench.hass, bench.plan.reloads
    entries = {
        count: account(
            bench.sim.url,
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
    return ContactSetupFigures(
        tuple(
            ContactSetup(
                contacts=count,
                entities=ACCOUNT_ENTITIES + CONTACT_ENTITIES * count,
                first_ms=times[count][0] * 1000,
                median_ms=statistics.median(times[count][1:] or times[count]) * 1000,
                reloads=reloads,
            )
            for count in SETUP_CONTACTS
        )
    )
