"""What a benchmark is, what it is given and what it returns.

A benchmark is any object with ``name``, ``description`` and
``run(options) -> BenchResult`` (the :class:`Benchmark` protocol), so future
ones (cluster, failover) plug into the same runner and the same report
format without touching the CLI. Results are plain rows of scalars: the
report module renders any of them as a table, JSON and optional plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

Scalar = str | int | float | bool | None
Row = Mapping[str, Scalar]


class BenchUsageError(ValueError):
    """The options make no sense for this benchmark (unknown --impl...): exit status 2."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchOptions:
    """Knobs every benchmark receives; each interprets them at its own scale.

    ``smoke`` asks for tiny iteration counts: the run proves the plumbing
    works and its numbers mean nothing. ``iterations``/``repeats`` of
    ``None`` let the benchmark pick its own defaults.
    """

    smoke: bool = False
    iterations: int | None = None
    repeats: int | None = None
    seed: int = 0
    report_dir: Path = Path("reports/bench")
    impls: tuple[str, ...] | None = None
    """Implementations to compare (``--impl a,b``); ``None`` lets the benchmark choose."""
    duration: float | None = None
    """Seconds per timed load phase (``--duration``); ``None`` lets the benchmark choose."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One column of the result table: key in each row, header, unit, format."""

    key: str
    header: str
    unit: str = ""
    fmt: str = ""
    """``format()`` spec for numbers, such as ``.2f``; empty means ``str()``."""
    table: bool = True
    """Shown in the printed table; every column is always in the JSON."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlotSpec:
    """One PNG, drawn only if matplotlib is present.

    ``kind="bar"`` (the default) draws bars of the ``y`` columns of the rows
    against the ``x`` column. ``kind="line"`` and ``kind="step"`` draw the
    rows of the series table ``series`` (see :attr:`BenchResult.series`) as
    one line per value of ``group``, ``y[0]`` against ``x``; ``markers`` names
    another series whose rows (``x``, optional ``group`` and ``label``) become
    vertical lines, such as the moment a leader was killed.
    """

    filename: str
    title: str
    x: str
    y: tuple[str, ...]
    ylabel: str = ""
    kind: str = "bar"
    series: str = ""
    """Series table to draw; empty means the result rows."""
    group: str = ""
    """Key whose value splits the rows into separate lines."""
    markers: str = ""
    """Series table of vertical marker lines."""
    xlabel: str = ""
    logx: bool = False
    logy: bool = False
    where: str = "mid"
    """For ``kind="step"``: matplotlib's ``where`` (``pre`` when x holds bucket upper edges)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchResult:
    """Everything one benchmark run produced, in a renderer-neutral shape."""

    name: str
    description: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    environment: Mapping[str, Scalar] = field(default_factory=dict)
    parameters: Mapping[str, Scalar] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    plots: tuple[PlotSpec, ...] = ()
    smoke: bool = False
    summary: Mapping[str, Scalar] = field(default_factory=dict)
    """Headline numbers (ratios); also copied to the top level of the JSON document."""
    series: Mapping[str, Sequence[Row]] = field(default_factory=dict)
    """Named tables of raw data behind plots (timelines, histograms, repeats); JSON only."""


class Benchmark(Protocol):
    """What the runner needs from a benchmark."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def run(self, options: BenchOptions) -> BenchResult: ...


def column_keys(columns: Sequence[Column]) -> list[str]:
    """The row keys of ``columns``, in order."""
    return [c.key for c in columns]
