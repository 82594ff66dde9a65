"""The benchmark table: name → module that provides it, imported on demand.

Lazy import mirrors ``harness.cli``: a benchmark with heavy or missing
dependencies (a cluster benchmark needing the Go host) cannot break
``gmc bench --list`` or the others. A providing module exposes a module-level
``BENCHMARK`` object satisfying :class:`~harness.bench.base.Benchmark`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from harness.bench.base import Benchmark


@dataclass(frozen=True, slots=True)
class Entry:
    """A registered benchmark: its name, its module and a one-line summary."""

    name: str
    module: str
    summary: str


REGISTRY: dict[str, Entry] = {}


def register(name: str, module: str, summary: str) -> None:
    """Add a benchmark to the table; names are unique."""
    if name in REGISTRY:
        raise ValueError(f"benchmark {name!r} is already registered")
    REGISTRY[name] = Entry(name, module, summary)


def names() -> list[str]:
    """Registered benchmark names, in registration order."""
    return list(REGISTRY)


def load(name: str) -> Benchmark:
    """Import the module behind ``name`` and return its ``BENCHMARK``."""
    try:
        entry = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown benchmark {name!r}; known: {', '.join(names())}") from None
    module = importlib.import_module(entry.module)
    bench: Benchmark = module.BENCHMARK
    if bench.name != name:
        raise RuntimeError(f"{entry.module}.BENCHMARK is named {bench.name!r}, not {name!r}")
    return bench


register(
    "codec",
    "harness.bench.codec",
    "encode+decode µs per message type: wire (default, strict) vs Google protobuf",
)
register(
    "cluster",
    "harness.bench.cluster",
    "3-node ensembles under Go net/rpc load: commits/s, p50/p99/p999 latency, refnode/gometa",
)
register(
    "failover",
    "harness.bench.failover",
    "kill -9 the leader under load: time to the first commit under the new leader",
)
