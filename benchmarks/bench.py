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
   first is suppressed and never reaches the provider), a limit of 100 simultaneous
   calls (the default 4 would serialize the concurrency measurement) and no call
   budget (the default would refuse all but the first 60 calls of an hour);
   3b. the same on a second account with the default rails: a 30 s cooldown, each call
   to a number of its own so that none is suppressed (limit 100), and a call budget
   that counts every call but is never reached: what the rails cost;
4. `button.press` on the "Call" button of a contact of the benchmark's account (the
   same form as 3);
5. `place_call` with a short caller name (`cidname`), and
   5b. `notify.send_message` of that text to the contact's notify entity: the message
   becomes the caller name, so 5 and 5b send the same form.

It also times the set-up of an account with 50 contacts (entry and platforms, until
its 104 entities are in the state machine) beside one with none; an escalation of three
numbers whose first two reject at once, `call_until_answered` against the same story as
a script of `rest_command` in a `repeat`/`until` loop; 1,000 waiting calls queued
behind the default limit of 4 simultaneous calls (memory per queued call, loop lag);
place_call with the call budget on against off; and floods of 500 calls against a
budget of 50 an hour (50 sent, the rest refused; loop lag; the memory refused calls
hold).

The parts: harness/ (Home Assistant, the simulator process, the accounts, the paths,
timing helpers), measures/ (the registry: each measure returns typed figures that
declare their targets), report.py (the tables, the verdict, the JSON file).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.figures import Figures  # noqa: E402
from benchmarks.harness import out, started  # noqa: E402
from benchmarks.harness.home_assistant import run  # noqa: E402
from benchmarks.harness.plan import FULL, SHORT, Plan  # noqa: E402
from benchmarks.measures import MEASURES  # noqa: E402
from benchmarks.profiling import run_profile  # noqa: E402
from benchmarks.report import (  # noqa: E402
    Environment,
    judge,
    print_details,
    print_report,
    verdict,
    write_json,
)


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


async def _measure(plan: Plan, args: argparse.Namespace) -> dict[str, Figures]:
    """Start the harness, then run every measure in turn (or only the profile)."""
    results: dict[str, Figures] = {}
    async with started(plan) as bench:
        if args.profile:
            await run_profile(bench, args.profile_dir)
            return results
        for measure in MEASURES:
            results[measure.key] = await measure.run(bench)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit code."""
    args = _parse_args(argv)
    plan = SHORT if args.short else FULL
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    # "We found a custom integration … which has not been tested by Home Assistant".
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)
    environment = Environment.now()
    started_at = time.perf_counter()
    out(
        f"Benchmark ({plan.name}) on Python {environment.python}, "
        f"Home Assistant {environment.homeassistant}"
    )
    results = run(_measure(plan, args))
    if args.profile:
        return 0
    targets = judge(results)
    print_report(plan, environment, results, targets)
    duration_s = time.perf_counter() - started_at
    if args.json:
        write_json(
            args.json,
            plan=plan,
            environment=environment,
            results=results,
            targets=targets,
            duration_s=duration_s,
        )
    if args.verbose:
        print_details(results)
    out(f"\n({duration_s:.0f} s)")
    return verdict(plan, targets)


if __name__ == "__main__":
    sys.exit(main())
