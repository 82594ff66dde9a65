"""``gmc``: one console script, each subcommand owned by the package it drives.

The table below maps a subcommand to the module that implements it. Such a
module exposes ``add_arguments(parser)`` and ``run(args) -> int``; it is
imported only when its subcommand runs, so ``gmc --help`` stays fast and a
broken optional dependency cannot take down unrelated subcommands.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class SubcommandModule(Protocol):
    """What a subcommand's owning module provides."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


@dataclass(frozen=True, slots=True)
class Subcommand:
    """A subcommand name, the module that owns it and its one-line help."""

    name: str
    module: str
    help: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("bench", "harness.bench.cli", "benchmarks: codec, cluster, failover (see --list)"),
    Subcommand("capture", "harness.capture.cli", "decode gometa frames from a pcap file"),
    Subcommand("cluster", "harness.cluster_cli", "start a local ensemble on loopback: cluster up"),
    Subcommand("conform", "conformance.cli", "run the conformance suite against a target"),
    Subcommand("decode", "wire.cli", "decode gometa frames given as hex"),
    Subcommand("kv", "harness.kv_cli", "get/set/add/delete one key on a member's RPC address"),
    Subcommand("node", "refnode.cli", "run one reference node from a gometa config file"),
)


def _load(sub: Subcommand) -> SubcommandModule:
    module: SubcommandModule = importlib.import_module(sub.module)
    return module


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the ``chosen`` subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog="gmc",
        description="gometa-conformance: wire codec, reference node and conformance suite "
        "for Couchbase gometa.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for sub in SUBCOMMANDS:
        sub_parser = subparsers.add_parser(sub.name, help=sub.help, description=sub.help)
        if sub.name == chosen:
            _load(sub).add_arguments(sub_parser)
        sub_parser.set_defaults(_subcommand=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and hand the subcommand to its owning module."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    names = {sub.name for sub in SUBCOMMANDS}
    chosen = next((arg for arg in args_list if not arg.startswith("-")), None)
    parser = build_parser(chosen if chosen in names else None)
    args = parser.parse_args(args_list)
    sub: Subcommand | None = getattr(args, "_subcommand", None)
    if sub is None:
        parser.print_help()
        return 2
    return _load(sub).run(args)


if __name__ == "__main__":
    sys.exit(main())
