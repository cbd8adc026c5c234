"""What a measure returns: typed figures that print themselves and meet targets.

A measure's figures are a frozen dataclass deriving from Figures. Its `targets`
method declares the measure's targets, each judged on these figures; a target with
`gates_short` is a gross-regression check that also gates `scripts/bench --short`.
The other methods say what the report prints; all default to nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Target:
    """One target, this run's figure against it, and whether it gates --short."""

    name: str
    limit: str
    value: str
    met: bool
    gates_short: bool = False


def at_most(
    name: str, ratio: float, limit: float, *, gates_short: bool = False
) -> Target:
    """Return the target that `ratio` is at most `limit`."""
    return Target(
        name, f"≤ {limit:.2f} ×", f"{ratio:.2f} ×", ratio <= limit, gates_short
    )


def below(
    name: str,
    value: float,
    limit: float,
    unit: str,
    *,
    digits: int,
    gates_short: bool = False,
) -> Target:
    """Return the target that `value` (in `unit`) is below `limit`."""
    return Target(
        name,
        f"< {limit:g} {unit}",
        f"{value:.{digits}f} {unit}",
        value < limit,
        gates_short,
    )


def zero(name: str, count: int) -> Target:
    """Return the gross-regression check that `count` is 0."""
    return Target(name, "0", str(count), count == 0, gates_short=True)


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the table of paths: its header, and a cell per path."""

    header: str
    cells: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Figures:
    """A measure's figures; subclasses add their fields and override what applies."""

    def targets(self) -> Sequence[Target]:
        """Return the measure's targets, judged on these figures."""
        return ()

    def columns(self) -> Sequence[Column]:
        """Return the columns these figures add to the table of paths."""
        return ()

    def blocks(self) -> Sequence[str]:
        """Return paragraphs or tables to print, each after an empty line."""
        return ()

    def rows(self) -> Sequence[tuple[str, str]]:
        """Return rows (what, value) for the table of other figures."""
        return ()

    def details(self) -> Sequence[str]:
        """Return blocks that only --verbose prints."""
        return ()

    def lost_calls(self) -> int:
        """Return how many calls were lost: any lost call is a gross regression."""
        return 0

    def ratios(self) -> Mapping[str, float]:
        """Return the ratios that the JSON file lists under figures.ratios."""
        return {}

    def json(self) -> object:
        """Return the figures as the JSON file holds them."""
        return asdict(self)
