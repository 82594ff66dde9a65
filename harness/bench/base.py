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
    """Bars of the ``y`` columns against the ``x`` column; drawn only if matplotlib is present."""

    filename: str
    title: str
    x: str
    y: tuple[str, ...]
    ylabel: str = ""


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
