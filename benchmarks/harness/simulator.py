"""The provider's simulator in a process of its own, driven over its stdin and stdout.

benchmarks/simulator_process.py serves tests.simulator.Simulator, so that the server's
work does not land on the event loop being measured.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import json
import subprocess
import sys
from typing import Any
from urllib.parse import parse_qsl

from benchmarks.harness.config import ROOT

# The simulator closes a connection idle this long, so a round that waits a little
# longer starts with an empty pool: every call opens its own connection.
KEEPALIVE = 1.0


@dataclass(frozen=True, slots=True)
class SimulatorStats:
    """Requests and calls since the last reset; requests in flight, now and at most."""

    requests: int
    calls: int
    in_flight: int
    max_in_flight: int


@dataclass(frozen=True, slots=True)
class LastRequest:
    """The content type and the body of the last request the simulator received."""

    content_type: str | None
    body: str | None

    def form(self) -> dict[str, str]:
        """Return the urlencoded body's fields."""
        return dict(parse_qsl(self.body or ""))


class SimulatorProcess:
    """benchmarks/simulator_process.py, started with a ring time for wait=1 calls."""

    def __init__(self, ring_time: float) -> None:
        """Start the process and wait for its URL."""
        self._process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "simulator_process.py"),
                "--ring-time",
                str(ring_time),
                "--keepalive",
                str(KEEPALIVE),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url: str = self._read()["url"]

    def _read(self) -> dict[str, Any]:
        """Read one JSON line from the process."""
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the simulator process exited (code {self._process.poll()})"
            )
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _command(self, command: str) -> dict[str, Any]:
        """Send one command and return its answer (blocking)."""
        assert self._process.stdin is not None
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        return self._read()

    async def _ask(self, command: str) -> dict[str, Any]:
        """Send one command without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._command, command)

    async def stats(self) -> SimulatorStats:
        """Return the requests and calls since the last reset."""
        return SimulatorStats(**await self._ask("stats"))

    async def last(self) -> LastRequest:
        """Return the last request received."""
        return LastRequest(**await self._ask("last"))

    async def reset(self) -> None:
        """Forget the recorded requests; the most in flight restarts from now."""
        await self._ask("reset")

    async def ring(self, seconds: float) -> None:
        """Ring wait=1 calls this long from now on (calls already ringing keep theirs)."""
        await self._ask(f"ring {seconds}")

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
