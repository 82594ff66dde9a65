"""``gmc conform``: run the conformance suite against one or more targets.

The suite runs in-process through ``pytest.main`` with a
:class:`~conformance.plugin.ConformancePlugin` per target; each target gets a
JSON and a Markdown report under ``REPORT_DIR/conformance/``. The exit code
is 0 when every case has the verdict expected for its target (for the Go
node that includes its documented deviations), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from conformance.plugin import ConformancePlugin, gometa_version
from conformance.verdicts import TargetReport

CASES_DIR = Path(__file__).resolve().parent / "cases"
ALL_TARGETS = ("refnode", "gometa")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="TARGET",
        help="refnode, gometa or command:TEMPLATE (repeatable); "
        "TEMPLATE may use {config} {data} {state} {name}",
    )
    parser.add_argument("--all", action="store_true", help="every built-in target: refnode, gometa")
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="reports go to REPORT_DIR/conformance/<target>.json and .md (default: reports)",
    )
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k expression")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="NON-STRICT (Go-like leniency) is unexpected for non-Go targets",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="pytest's own output")


def run_target(
    target_spec: str, *, keyword: str | None, strict: bool, verbose: bool
) -> tuple[TargetReport, int]:
    """Run the suite once for ``target_spec``; the report and pytest's exit code."""
    plugin = ConformancePlugin(target_spec, strict=strict)
    argv = [
        str(CASES_DIR),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "--rootdir",
        str(CASES_DIR.parent.parent),
    ]
    argv += ["-v"] if verbose else ["-q", "--no-header"]
    if keyword:
        argv += ["-k", keyword]
    try:
        code = int(pytest.main(argv, plugins=[plugin]))
    finally:
        plugin.close()
    report = TargetReport(
        target=plugin.target_name,
        strict=strict,
        command=plugin.describe_command(),
        gometa_version=gometa_version(),
        results=sorted(plugin.results.values(), key=lambda r: r.case_id),
    )
    return report, code


def summary(reports: list[TargetReport]) -> str:
    ids = sorted({r.case_id for rep in reports for r in rep.results})
    names = [rep.target for rep in reports]
    width = max([20, *(len(n) + 2 for n in names)])
    lines = ["case   " + "".join(f"{n:<{width}}" for n in names)]
    for cid in ids:
        cells = []
        for rep in reports:
            res = next((r for r in rep.results if r.case_id == cid), None)
            cell = "-" if res is None else res.verdict.value + ("" if res.ok else " (!)")
            cells.append(f"{cell:<{width}}")
        lines.append(f"{cid:<7}" + "".join(cells))
    for rep in reports:
        bad = [r.case_id for r in rep.results if not r.ok]
        state = "OK" if rep.ok else f"UNEXPECTED: {', '.join(bad) or 'no cases ran'}"
        lines.append(f"{rep.target}: {len(rep.results)} cases, {state}")
    lines.append("(!) = not the verdict expected for that target")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    targets: list[str] = list(args.target)
    if args.all:
        targets += [t for t in ALL_TARGETS if t not in targets]
    if not targets:
        print("gmc conform: give --target TARGET or --all", file=sys.stderr)
        return 2
    reports: list[TargetReport] = []
    for spec in targets:
        report, code = run_target(
            spec, keyword=args.keyword, strict=args.strict, verbose=args.verbose
        )
        json_path, md_path = report.write(args.report_dir / "conformance")
        print(f"{report.target}: pytest exit {code}; reports {json_path} {md_path}")
        reports.append(report)
    print(summary(reports))
    return 0 if all(rep.ok for rep in reports) else 1
