"""``gmc bench NAME``: run one registered benchmark and report it.

The report always goes to ``<report-dir>/<name>.json``. On stdout it is a
rich table, or with ``--json`` exactly one JSON object (the same document),
so scripts can pipe it. ``--smoke`` runs tiny iteration counts to prove the
plumbing; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from harness.bench import registry, report
from harness.bench.base import BenchOptions, BenchUsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gmc bench``."""
    parser.add_argument("name", nargs="?", help="benchmark to run (see --list)")
    parser.add_argument("--list", action="store_true", help="list benchmarks and exit")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny iteration counts: checks that it runs, not how fast",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout instead of the table"
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="calls per timed batch (benchmark default if omitted)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed batches per measurement; the best is kept"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the interleaving order")
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports/bench"),
        help="where <name>.json (and plots) go (default: reports/bench)",
    )
    parser.add_argument(
        "--plots",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write PNG plots next to the JSON (needs matplotlib; default: on)",
    )
    parser.add_argument(
        "--impl",
        default=None,
        help="comma-separated implementations to compare, for benchmarks "
        "that compare some (e.g. refnode,gometa)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per timed load phase, for benchmarks that run load",
    )


def run(args: argparse.Namespace) -> int:
    """Run the benchmark named in ``args``; 0 on success, 2 on a usage error."""
    err = Console(stderr=True)
    if args.list or not args.name:
        out = Console()
        for name in registry.names():
            out.print(f"{name:12} {registry.REGISTRY[name].summary}")
        return 0 if args.list else 2
    try:
        bench = registry.load(args.name)
    except KeyError as exc:
        err.print(f"gmc bench: {exc.args[0]}")
        return 2
    if args.duration is not None and args.duration <= 0:
        err.print("gmc bench: --duration must be positive")
        return 2
    for flag in ("iterations", "repeats"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            err.print(f"gmc bench: --{flag} must be at least 1")
            return 2
    options = BenchOptions(
        smoke=args.smoke,
        iterations=args.iterations,
        repeats=args.repeats,
        seed=args.seed,
        report_dir=args.report_dir,
        impls=tuple(i.strip() for i in args.impl.split(",") if i.strip()) if args.impl else None,
        duration=args.duration,
    )
    try:
        result = bench.run(options)
    except BenchUsageError as exc:
        err.print(f"gmc bench {args.name}: {exc}")
        return 2
    path = report.write_json(result, options.report_dir)
    plot_paths: list[Path] = []
    plot_skip: str | None = None
    if args.plots:
        plot_paths, plot_skip = report.write_plots(result, options.report_dir)
    if args.json:
        sys.stdout.write(json.dumps(report.to_json(result)) + "\n")
        sys.stdout.flush()
        info = err
    else:
        info = report.wide_console()
        report.print_report(result, info)
    info.print(f"report written to {path}")
    for plot in plot_paths:
        info.print(f"plot written to {plot}")
    if plot_skip:
        info.print(plot_skip)
    return 0
