"""One report format for every benchmark: rich table, JSON file, optional PNG plots.

The JSON document is the contract (``SCHEMA``); the table and plots are views
of it. Plots need matplotlib, which is deliberately not a dependency: when it
is missing the report says so and carries on.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.bench.base import BenchResult, Column, PlotSpec, Scalar

SCHEMA = "gmc-bench/1"


def to_json(result: BenchResult) -> dict[str, Any]:
    """The JSON-ready document for ``result``.

    ``summary`` keys (headline ratios) are also copied to the top level so a
    script can read ``.throughput_ratio`` directly; they may not shadow the
    document's own keys.
    """
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "name": result.name,
        "description": result.description,
        "smoke": result.smoke,
        "environment": dict(result.environment),
        "parameters": dict(result.parameters),
        "columns": [asdict(c) for c in result.columns],
        "rows": [dict(r) for r in result.rows],
        "notes": list(result.notes),
    }
    if result.summary:
        doc["summary"] = dict(result.summary)
    if result.series:
        doc["series"] = {name: [dict(r) for r in rows] for name, rows in result.series.items()}
    for key, value in result.summary.items():
        if key in doc:
            raise ValueError(f"summary key {key!r} would shadow a report key")
        doc[key] = value
    return doc


def write_json(result: BenchResult, report_dir: Path) -> Path:
    """Write ``<report_dir>/<name>.json`` and return its path."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"{result.name}.json"
    path.write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
    return path


def _cell(value: Scalar, column: Column) -> str:
    if value is None:
        return "—"
    if column.fmt and isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, column.fmt)
    return str(value)


def table(result: BenchResult) -> Table:
    """A rich table of the rows, numbers right-aligned."""
    title = result.description + ("  [smoke: numbers meaningless]" if result.smoke else "")
    out = Table(title=f"{result.name}: {title}")
    shown = [c for c in result.columns if c.table]
    for column in shown:
        header = f"{column.header} ({column.unit})" if column.unit else column.header
        numeric = bool(column.fmt)
        out.add_column(header, justify="right" if numeric else "left", no_wrap=True)
    for row in result.rows:
        out.add_row(*(_cell(row.get(c.key), c) for c in shown))
    return out


MIN_WIDTH = 110


def wide_console() -> Console:
    """A stdout console at least ``MIN_WIDTH`` wide: rich assumes 80 columns when piped."""
    console = Console()
    return console if console.width >= MIN_WIDTH else Console(width=MIN_WIDTH)


def print_report(result: BenchResult, console: Console) -> None:
    """Table, then the summary, environment and notes."""
    console.print(table(result))
    for key, value in result.summary.items():
        shown = format(value, ".3f") if isinstance(value, float) else str(value)
        console.print(f"  [bold]{key}[/bold]: {shown}")
    for key, value in result.environment.items():
        console.print(f"  {key}: {value}")
    for note in result.notes:
        console.print(f"  note: {note}")


def _number(value: Scalar) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _plot_lines(result: BenchResult, spec: PlotSpec, pyplot: Any, report_dir: Path) -> Path:
    rows = result.series.get(spec.series, ()) if spec.series else result.rows
    groups: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        x, y = _number(row.get(spec.x)), _number(row.get(spec.y[0]))
        if x is not None and y is not None:
            groups.setdefault(str(row.get(spec.group, "")) if spec.group else "", []).append((x, y))
    fig, ax = pyplot.subplots(figsize=(8.0, 4.5))
    colours: dict[str, Any] = {}
    for label, points in groups.items():
        points.sort()
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if spec.kind == "step":
            (line,) = ax.step(xs, ys, where=spec.where, label=label or None)
        else:
            (line,) = ax.plot(xs, ys, label=label or None)
        colours[label] = line.get_color()
    for row in result.series.get(spec.markers, ()) if spec.markers else ():
        x = _number(row.get(spec.x))
        if x is None:
            continue
        group = str(row.get(spec.group, "")) if spec.group else ""
        ax.axvline(x, color=colours.get(group, "black"), linestyle="--", linewidth=1)
        text = row.get("label")
        if text:
            ax.annotate(
                str(text),
                (x, 1.0),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=8,
                color=colours.get(group, "black"),
            )
    if spec.logx:
        ax.set_xscale("log")
    if spec.logy:
        ax.set_yscale("log")
    ax.set_title(spec.title)
    ax.set_xlabel(spec.xlabel or spec.x)
    ax.set_ylabel(spec.ylabel or spec.y[0])
    if any(groups):
        ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path = report_dir / spec.filename
    fig.savefig(path)
    pyplot.close(fig)
    return path


def _plot(result: BenchResult, spec: PlotSpec, pyplot: Any, report_dir: Path) -> Path:
    if spec.kind in ("line", "step"):
        return _plot_lines(result, spec, pyplot, report_dir)
    labels = [str(r.get(spec.x)) for r in result.rows]
    fig, ax = pyplot.subplots(figsize=(max(6.0, 0.6 * len(labels)), 4.0))
    width = 0.8 / max(1, len(spec.y))
    for i, key in enumerate(spec.y):
        values = [r.get(key) for r in result.rows]
        heights = [float(v) if isinstance(v, int | float) else 0.0 for v in values]
        ax.bar([x + i * width for x in range(len(labels))], heights, width, label=key)
    ax.set_xticks([x + width * (len(spec.y) - 1) / 2 for x in range(len(labels))])
    ax.set_xticklabels(labels, rotation=45, ha="right")
    ax.set_title(spec.title)
    ax.set_ylabel(spec.ylabel)
    ax.legend()
    fig.tight_layout()
    path = report_dir / spec.filename
    fig.savefig(path)
    pyplot.close(fig)
    return path


def write_plots(result: BenchResult, report_dir: Path) -> tuple[list[Path], str | None]:
    """Draw ``result.plots`` as PNGs; returns the paths and, if skipped, why."""
    if not result.plots:
        return [], None
    try:
        matplotlib = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        pyplot = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        return [], "matplotlib is not installed; plots skipped"
    report_dir.mkdir(parents=True, exist_ok=True)
    return [_plot(result, spec, pyplot, report_dir) for spec in result.plots], None
