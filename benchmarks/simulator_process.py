"""Serve the provider's simulator in a process of its own, for the benchmark.

The benchmark's Home Assistant loop must not share its CPU time with the server, so
tests.simulator.Simulator runs here. It prints one JSON line with its URL once it
serves, then answers commands read from stdin, one per line, each with one JSON line:

- `stats`: requests and calls since the last reset, requests in flight, and the most
  that were in flight at once;
- `last`: the content type and body of the last request;
- `reset`: forget the recorded requests (keeps this process's memory flat);
- `ring <seconds>`: how long a `wait=1` call rings from now on (calls already ringing
  keep theirs).

It stops when stdin closes. `--keepalive` sets how long an idle connection is kept,
so that the benchmark can start a round with no connection pooled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import sys
from typing import Any
from unittest.mock import patch

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.simulator import Simulator  # noqa: E402


class QuietSimulator(Simulator):
    """The test simulator, with a configurable keep-alive timeout."""

    def __init__(self, *, keepalive: float, **kwargs: Any) -> None:
        """Model the account as the tests do; keep idle connections `keepalive` s."""
        super().__init__(**kwargs)
        self.keepalive = keepalive

    async def start(self, *args: Any, **kwargs: Any) -> None:
        """Serve as Simulator.start does, its runner keeping idle connections less."""
        make_runner = web.AppRunner

        def runner(app: web.Application, **options: Any) -> web.AppRunner:
            options["keepalive_timeout"] = self.keepalive
            return make_runner(app, **options)

        with patch.object(web, "AppRunner", runner):
            await super().start(*args, **kwargs)

    def answer(self, command: str) -> dict[str, Any]:
        """Run one control command."""
        if command == "reset":
            self.requests.clear()
            self.calls.clear()
            self.max_in_flight = self.in_flight
            return {"ok": True}
        if command.startswith("ring "):
            self.ring_time = float(command.removeprefix("ring "))
            return {"ring_time": self.ring_time}
        if command == "last":
            last = self.requests[-1] if self.requests else None
            return {
                "content_type": last.content_type if last else None,
                "body": last.body.decode() if last else None,
            }
        return {
            "requests": len(self.requests),
            "calls": len(self.calls),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
        }


def _write(payload: dict[str, Any]) -> None:
    """Send one JSON line to the benchmark."""
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def _serve(args: argparse.Namespace) -> None:
    """Serve until stdin closes."""
    simulator = QuietSimulator(ring_time=args.ring_time, keepalive=args.keepalive)
    await simulator.start()
    _write({"url": simulator.url})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    try:
        while line := await reader.readline():
            _write(simulator.answer(line.decode().strip()))
    finally:
        await simulator.stop()


def main() -> None:
    """Parse the options and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ring-time", type=float, default=3.0)
    parser.add_argument("--keepalive", type=float, default=75.0)
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
