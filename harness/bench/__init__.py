"""Pluggable benchmarks behind ``gmc bench``: a registry, one report format.

Add a benchmark by writing a module with a ``BENCHMARK`` object that
satisfies :class:`Benchmark` and registering it in :mod:`harness.bench.registry`.
"""

from harness.bench.base import Benchmark, BenchOptions, BenchResult, Column, PlotSpec

__all__ = ["BenchOptions", "BenchResult", "Benchmark", "Column", "PlotSpec"]
