"""Fixtures: the development instance (scripts/develop) and a headless Chromium.

The instance is started exactly as a user starts it, `scripts/develop`, with a fresh
state folder, free ports and a short ring time; its whole output is kept, and the
simulator's lines in it (one per request, with the reply and the phones it rang in
order) are what the simulator received and did. Run these with scripts/e2e, not with scripts/test: they need Debian's
chromium and Playwright (requirements_e2e.txt), and they leave the Home Assistant
test plugin out.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import re
import shlex
import signal
import socket
import subprocess
import threading
import time

from playwright.sync_api import Browser, Page, sync_playwright
import pytest

ROOT = Path(__file__).resolve().parents[2]
# scripts/e2e keeps each release's screenshots apart: tests/e2e/artifacts/<release>/.
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS") or Path(__file__).parent / "artifacts")
DOCS = ROOT / "docs"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The simulator's development tokens, and the wrong one the tests type: none may show.
TOKENS = ("simulator-token", "simulator-single")
WRONG_TOKEN = "e2e-wrong-token-5d1c"
START_TIMEOUT = 900.0  # the first start may install the frontend (~110 MB)
STOP_TIMEOUT = 60.0
_STARTING = re.compile(r"^==> Starting Home Assistant (?P<version>\d+\.\d+\.\d+\S*) ")
_SIMULATOR = re.compile(
    r"^\[simulator\] \d\d:\d\d:\d\d (?P<method>[A-Z]+) (?P<fields>.*?) => "
    r"(?P<reply>(?:OK|ERR):.*?)(?: \((?P<note>[^()]*)\))?$"
)
# The simulator's note on a call it placed: its two legs, in the order it rang them.
_RANG = re.compile(r"rang (?P<first>\S+) first, then (?P<then>\S+)")


@dataclass(frozen=True)
class SimulatorLine:
    """One request the simulator received, with its reply."""

    method: str
    fields: dict[str, str]
    reply: str
    note: str = ""  # what the simulator says it did: "rang 1234567 first, then 2001"

    @property
    def ok(self) -> bool:
        """Return whether the simulator accepted the request."""
        return self.reply.startswith("OK:")

    @property
    def rang(self) -> tuple[str, str] | None:
        """Return the phone rung first and the one dialled once it answered, if any."""
        if match := _RANG.fullmatch(self.note):
            return match["first"], match["then"]
        return None


@dataclass
class Instance:
    """The running development instance and everything it printed."""

    process: subprocess.Popen[str]
    folder: Path
    url: str
    simulator_url: str
    lines: list[str] = field(default_factory=list)
    demo: dict[str, str] = field(default_factory=dict)
    version: str = ""  # the Home Assistant release scripts/develop started
    _mark: int = 0

    def release_before(self, year: int, month: int) -> bool:
        """Return whether the Home Assistant started is older than release YEAR.MONTH."""
        major, minor = (int(part) for part in self.version.split(".")[:2])
        return (major, minor) < (year, month)

    def output(self) -> str:
        """Return the output so far."""
        return "\n".join(self.lines)

    def requests(self) -> list[SimulatorLine]:
        """Return every request the simulator received so far."""
        found = []
        for line in list(self.lines):
            if match := _SIMULATOR.match(line):
                pairs = (part.split("=", 1) for part in shlex.split(match["fields"]))
                found.append(
                    SimulatorLine(
                        match["method"],
                        dict(pairs),
                        match["reply"],
                        match["note"] or "",
                    )
                )
        return found

    def mark(self) -> None:
        """Count the requests from here on in `new_requests`."""
        self._mark = len(self.requests())

    def new_requests(
        self, count: int, timeout: float = 30.0, settle: float = 1.0
    ) -> list[SimulatorLine]:
        """Return the requests since `mark` once there are `count` (and no more)."""
        deadline = time.monotonic() + timeout
        while len(self.requests()) - self._mark < count:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        # A request that should not have come would come right after the others.
        time.sleep(settle)
        found = self.requests()[self._mark :]
        self.mark()
        return found


def free_port() -> int:
    """Return a free loopback port.

    As tests.common.free_port, which the browser tests do not import: it would load
    Home Assistant and its test plugin into a process that only drives a browser.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _read(process: subprocess.Popen[str], lines: list[str], log: Path) -> None:
    """Keep every line the instance prints, and write it to the artifacts' log."""
    assert process.stdout is not None
    with log.open("w") as out:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            out.write(line)
            out.flush()


@pytest.fixture(scope="session")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """Start scripts/develop with a fresh state folder; stop it as Ctrl-C does."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    folder = tmp_path_factory.mktemp("state")
    ha_port, sim_port = free_port(), free_port()
    env = {
        **os.environ,
        "HA_PORT": str(ha_port),
        "SIM_PORT": str(sim_port),
        "SIM_RING_TIME": "1",
    }
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "develop"), "--config", str(folder)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    running = Instance(
        process,
        folder,
        f"http://127.0.0.1:{ha_port}",
        f"http://127.0.0.1:{sim_port}/api/0.9.3/call",
    )
    reader = threading.Thread(
        target=_read, args=(process, running.lines, ARTIFACTS / "develop.log")
    )
    reader.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not any(line.startswith("==> Ready") for line in running.lines):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "scripts/develop did not get ready:\n" + running.output()[-5000:]
                )
            time.sleep(0.2)
        running.demo = json.loads((folder / "develop-demo.json").read_text())
        [running.version] = [
            match["version"]
            for line in running.lines
            if (match := _STARTING.match(line))
        ]
        running.mark()
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        reader.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium, headless, with a fresh profile."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def page(browser: Browser, instance: Instance) -> Generator[Page]:
    """Return one tab for the whole session, as a user keeps one open."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, locale="en-GB", base_url=instance.url
    )
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: Page, name: str, *, docs: str | None = None) -> None:
    """Keep a screenshot of the step; with E2E_DOCS=1 also the README's copy."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Transitions finished: a radio just chosen shows as chosen, a label just floated
    # above its text field no longer overlaps the value typed.
    page.screenshot(path=path, animations="disabled")
    if docs and os.environ.get("E2E_DOCS"):
        DOCS.mkdir(exist_ok=True)
        (DOCS / docs).write_bytes(path.read_bytes())
