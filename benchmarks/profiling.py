"""--profile: a cProfile of each path instead of the benchmark."""

from __future__ import annotations

import cProfile
import io
from pathlib import Path
import pstats
import re
import time

from benchmarks.harness import Bench, out
from benchmarks.harness.config import ROOT
from benchmarks.harness.paths import CallPath

PROFILED = (
    CallPath.PLACE,
    CallPath.PLACE_RAILS,
    CallPath.BUTTON,
    CallPath.NOTIFY,
    CallPath.REST,
    CallPath.RAW,
)


def _shorten(text: str) -> str:
    """Strip site-packages and the repo from the paths in a pstats listing."""
    text = re.sub(r"\S*/site-packages/", "", text)
    text = re.sub(r"\S*/lib/python3\.\d+/", "", text)
    return text.replace(str(ROOT) + "/", "")


async def run_profile(bench: Bench, out_dir: Path | None) -> None:
    """Print a cProfile of each path's calls, heaviest functions first."""
    count = bench.plan.profile_calls
    for path in PROFILED:
        call = bench.calls[path]
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
            profile.dump_stats(out_dir / f"{path}.prof")
        for order in ("tottime", "cumulative"):
            text = io.StringIO()
            stats = pstats.Stats(profile, stream=text)
            stats.sort_stats(order).print_stats(30)
            out(
                f"\n### {path.label}: {count} calls, {elapsed / count * 1e6:.0f} µs "
                f"per call under the profiler, by {order}\n"
            )
            out(_shorten(text.getvalue()))
