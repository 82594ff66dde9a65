"""Cluster benchmark: a 3-member ensemble on loopback under Set load, per implementation.

Every variant (see :mod:`harness.bench.loadgen`) gets, in each repeat, a fresh
3-member ensemble and the same two load phases from the same Go load
generator (``gometa-host -load``, net/rpc, clients pinned round-robin to the
members):

* ``fixed``: a paced offered load every variant sustains, for latency;
* ``saturation``: clients sending back to back, for throughput.

Variants alternate inside each repeat (the order rotates from repeat to
repeat), so a noisy neighbour on a small machine hits them alike; the table
shows medians over repeats and the ratios are medians of the per-repeat
ratios, measured side by side. The first ``warmup`` seconds of every phase
are left out of the latency and throughput figures (but kept in the
timeline). CPU is reported per phase as a share of one core: the three
members together, the load generator, and the harness process itself.
"""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from harness.bench import loadgen as lg
from harness.bench.base import BenchOptions, BenchResult, Column, PlotSpec, Row, Scalar
from harness.targets import start_stable_ensemble


@dataclass(frozen=True, slots=True, kw_only=True)
class Scale:
    """Sizes of one run."""

    duration: float
    warmup: float
    repeats: int
    fixed_rate: float
    fixed_clients: int
    sat_clients: int


FULL: Final = Scale(
    duration=8.0, warmup=1.0, repeats=3, fixed_rate=100.0, fixed_clients=16, sat_clients=32
)
SMOKE: Final = Scale(
    duration=1.0, warmup=0.2, repeats=1, fixed_rate=100.0, fixed_clients=4, sat_clients=8
)
PHASES: Final = ("fixed", "saturation")


def _scale(options: BenchOptions) -> Scale:
    base = SMOKE if options.smoke else FULL
    duration = options.duration if options.duration is not None else base.duration
    return Scale(
        duration=duration,
        warmup=min(base.warmup, duration / 4),
        repeats=options.repeats if options.repeats is not None else base.repeats,
        fixed_rate=base.fixed_rate,
        fixed_clients=base.fixed_clients,
        sat_clients=base.sat_clients,
    )


def _spec(scale: Scale, phase: str) -> lg.LoadSpec:
    if phase == "fixed":
        return lg.LoadSpec(
            clients=scale.fixed_clients,
            rate=scale.fixed_rate,
            duration=scale.duration,
            warmup=scale.warmup,
        )
    return lg.LoadSpec(clients=scale.sat_clients, duration=scale.duration, warmup=scale.warmup)


def _run_variant(variant: str, scale: Scale, workdir: Path) -> dict[str, dict[str, Any]]:
    """Both phases against one fresh ensemble; raw loadgen results plus CPU."""
    out: dict[str, dict[str, Any]] = {}
    ens = start_stable_ensemble(lg.BenchTarget(variant), 3, workdir)
    try:
        addrs = lg.request_addrs(ens)
        for phase in PHASES:
            meter = lg.CpuMeter(ens)
            gen = lg.LoadGen(_spec(scale, phase), addrs)
            try:
                result = gen.wait()
            finally:
                gen.close()
            cpu = meter.stop()
            result.update(cpu)
            out[phase] = result
    finally:
        ens.stop()
    return out


def _pct(cpu_s: float, wall_s: float) -> float:
    return 100.0 * cpu_s / wall_s if wall_s > 0 else 0.0


def _repeat_row(repeat: int, variant: str, phase: str, r: Mapping[str, Any]) -> Row:
    wall = float(r["wall_s"])
    return {
        "repeat": repeat,
        "impl": variant,
        "phase": phase,
        "throughput": float(r["throughput"]),
        "p50_ms": float(r["p50_ms"]),
        "p99_ms": float(r["p99_ms"]),
        "p999_ms": float(r["p999_ms"]),
        "errors": int(r["errors"]),
        "nodes_cpu_pct": _pct(float(r["nodes_cpu_s"]), wall),
        "loadgen_cpu_pct": _pct(float(r["cpu_s"]), float(r.get("wall_s", wall))),
        "harness_cpu_pct": _pct(float(r["harness_cpu_s"]), wall),
        "nodes_cpu_us_per_commit": (
            1e6 * float(r["nodes_cpu_s"]) / int(r["ok"]) if int(r["ok"]) else None
        ),
    }


_MEDIAN_KEYS: Final = (
    "throughput",
    "p50_ms",
    "p99_ms",
    "p999_ms",
    "nodes_cpu_pct",
    "loadgen_cpu_pct",
    "harness_cpu_pct",
    "nodes_cpu_us_per_commit",
)


def _summary_rows(repeats: list[Row], variants: tuple[str, ...]) -> list[Row]:
    rows: list[Row] = []
    for phase in PHASES:
        for variant in variants:
            mine = [r for r in repeats if r["impl"] == variant and r["phase"] == phase]
            row: dict[str, Scalar] = {"impl": variant, "phase": phase, "repeats": len(mine)}
            for key in _MEDIAN_KEYS:
                row[key] = lg.median([float(v) for r in mine if isinstance(v := r[key], float)])
            row["errors"] = sum(int(r["errors"] or 0) for r in mine)
            rows.append(row)
    return rows


def _paired_ratio(repeats: list[Row], num: str, den: str, phase: str, key: str) -> float | None:
    """Median over repeats of ``num``'s ``key`` / ``den``'s, same repeat and phase."""
    ratios = []
    for rep in sorted({int(r["repeat"] or 0) for r in repeats}):
        pick = {r["impl"]: r[key] for r in repeats if r["repeat"] == rep and r["phase"] == phase}
        a, b = pick.get(num), pick.get(den)
        if isinstance(a, float) and isinstance(b, float) and b > 0:
            ratios.append(a / b)
    return lg.median(ratios)


def summary(repeats: list[Row], variants: tuple[str, ...]) -> dict[str, Scalar]:
    """Headline ratios (refnode / gometa): the in-memory variant first, then durable."""
    out: dict[str, Scalar] = {}
    if lg.GOMETA not in variants:
        return out
    refs = [v for v in variants if v != lg.GOMETA]
    for ref in refs:
        suffix = "" if ref == refs[0] else "_" + ref.removeprefix("refnode-")
        out[f"throughput_ratio{suffix}"] = _paired_ratio(
            repeats, ref, lg.GOMETA, "saturation", "throughput"
        )
        out[f"p99_latency_ratio{suffix}"] = _paired_ratio(
            repeats, ref, lg.GOMETA, "fixed", "p99_ms"
        )
        out[f"p50_latency_ratio{suffix}"] = _paired_ratio(
            repeats, ref, lg.GOMETA, "fixed", "p50_ms"
        )
        out[f"p99_latency_ratio_saturation{suffix}"] = _paired_ratio(
            repeats, ref, lg.GOMETA, "saturation", "p99_ms"
        )
    if refs:
        out["headline_impl"] = refs[0]
    return out


def _histograms(raw: list[tuple[str, str, Mapping[str, Any]]], phase: str) -> list[Row]:
    """Latency histograms summed over repeats, as shares of each variant's requests."""
    counts: dict[str, dict[float, float]] = {}
    for variant, ph, r in raw:
        if ph != phase:
            continue
        bucket = counts.setdefault(variant, {})
        for edge, n in r.get("histogram_ms") or []:
            bucket[float(edge)] = bucket.get(float(edge), 0.0) + float(n)
    rows: list[Row] = []
    for variant, bucket in counts.items():
        total = sum(bucket.values()) or 1.0
        for edge in sorted(bucket):
            rows.append({"impl": variant, "latency_ms": edge, "share": bucket[edge] / total})
    return rows


def _timeline(raw: list[tuple[str, str, Mapping[str, Any]]], phase: str) -> list[Row]:
    """Commits/s per 100 ms of the first repeat of each variant."""
    rows: list[Row] = []
    seen: set[str] = set()
    for variant, ph, r in raw:
        if ph != phase or variant in seen:
            continue
        seen.add(variant)
        step = float(r.get("timeline_step_s", 0.1))
        for i, (ok, err) in enumerate(r.get("timeline") or []):
            rows.append(
                {
                    "impl": variant,
                    "t_s": (i + 0.5) * step,
                    "commits_per_s": ok / step,
                    "errors_per_s": err / step,
                }
            )
    return rows


COLUMNS: Final = (
    Column(key="impl", header="impl"),
    Column(key="phase", header="load"),
    Column(key="throughput", header="commits/s", fmt=".0f"),
    Column(key="p50_ms", header="p50", unit="ms", fmt=".2f"),
    Column(key="p99_ms", header="p99", unit="ms", fmt=".2f"),
    Column(key="p999_ms", header="p999", unit="ms", fmt=".2f"),
    Column(key="nodes_cpu_pct", header="nodes", unit="%cpu", fmt=".0f"),
    Column(key="loadgen_cpu_pct", header="loadgen", unit="%cpu", fmt=".0f"),
    Column(key="harness_cpu_pct", header="harness", unit="%cpu", fmt=".0f"),
    Column(key="nodes_cpu_us_per_commit", header="cpu/commit", unit="µs", fmt=".0f"),
    Column(key="errors", header="err", fmt="d"),
    Column(key="repeats", header="repeats", fmt="d", table=False),
)


@dataclass(frozen=True, slots=True)
class ClusterBenchmark:
    """``gmc bench cluster``."""

    name: str = "cluster"
    description: str = "3-member ensembles under Set load: commits/s and commit latency"

    def run(self, options: BenchOptions) -> BenchResult:
        variants = lg.expand_impls(options.impls)
        scale = _scale(options)
        repeats: list[Row] = []
        raw: list[tuple[str, str, Mapping[str, Any]]] = []
        with tempfile.TemporaryDirectory(prefix="gmc-bench-cluster-") as tmp:
            for rep in range(scale.repeats):
                shift = (rep + options.seed) % len(variants)
                order = variants[shift:] + variants[:shift]
                for variant in order:
                    results = _run_variant(variant, scale, Path(tmp) / f"r{rep}-{variant}")
                    for phase in PHASES:
                        repeats.append(_repeat_row(rep, variant, phase, results[phase]))
                        raw.append((variant, phase, results[phase]))
        rows = _summary_rows(repeats, variants)
        return BenchResult(
            name=self.name,
            description=self.description,
            columns=COLUMNS,
            rows=tuple(rows),
            environment={
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": _cpus(),
                "system": platform.platform(terse=True),
            },
            parameters={
                "members": 3,
                "duration_s": scale.duration,
                "warmup_s": scale.warmup,
                "repeats": scale.repeats,
                "fixed_rate": scale.fixed_rate,
                "fixed_clients": scale.fixed_clients,
                "saturation_clients": scale.sat_clients,
                "value_bytes": 64,
                "impls": ",".join(variants),
            },
            notes=(
                "ratios are refnode / gometa, medians of per-repeat ratios measured side "
                "by side; throughput at saturation, latency at the fixed offered load",
                "gometa keeps its store in memory: refnode-mem is the equal-durability "
                "comparison (headline), refnode-durable is SQLite with fsync per group commit",
                "CPU is % of one core over the phase: nodes = the 3 members together; "
                "loadgen = gometa-host -load (Go net/rpc); harness = this process",
            ),
            plots=(
                PlotSpec(
                    filename="cluster_latency_fixed.png",
                    title=f"commit latency at {scale.fixed_rate:.0f} req/s offered "
                    "(share of requests per bucket)",
                    kind="step",
                    series="latency_fixed",
                    x="latency_ms",
                    y=("share",),
                    group="impl",
                    logx=True,
                    where="pre",
                    xlabel="latency (ms)",
                    ylabel="share of requests",
                ),
                PlotSpec(
                    filename="cluster_latency_saturation.png",
                    title=f"commit latency at saturation ({scale.sat_clients} clients)",
                    kind="step",
                    series="latency_saturation",
                    x="latency_ms",
                    y=("share",),
                    group="impl",
                    logx=True,
                    where="pre",
                    xlabel="latency (ms)",
                    ylabel="share of requests",
                ),
                PlotSpec(
                    filename="cluster_throughput.png",
                    title=f"commits/s over time at saturation ({scale.sat_clients} clients)",
                    kind="line",
                    series="timeline_saturation",
                    x="t_s",
                    y=("commits_per_s",),
                    group="impl",
                    xlabel="time (s)",
                    ylabel="commits/s (100 ms bins)",
                ),
            ),
            smoke=options.smoke,
            summary=summary(repeats, variants),
            series={
                "repeats": repeats,
                "latency_fixed": _histograms(raw, "fixed"),
                "latency_saturation": _histograms(raw, "saturation"),
                "timeline_fixed": _timeline(raw, "fixed"),
                "timeline_saturation": _timeline(raw, "saturation"),
            },
        )


def _cpus() -> int:
    return os.cpu_count() or 0


BENCHMARK: Final = ClusterBenchmark()
