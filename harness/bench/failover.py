"""Failover benchmark: kill -9 the leader under load, time the first commit after it.

For each variant (see :mod:`harness.bench.loadgen`) a 3-member ensemble runs
under a paced Set load from the Go load generator. One repetition: let the
load settle, take the wall clock, hand it to the load generator as a marker,
``kill -9`` the leader, and wait for the first request *sent after the kill*
to commit (it can only have been committed under a new leader: the old one
is gone, and a survivor notices the closed connection at once on loopback).
That interval is the failover time. The killed member is then restarted on
its data (in memory: empty) and the next repetition starts once all three
agree on a leader again; an ensemble that does not settle (gometa's W41
cold-start race can leave a member mute) is replaced by a fresh one, and
the replacement is counted.

Repetitions alternate between variants in blocks, so drift on a noisy
machine hits every variant alike. Besides the failover time, each
repetition records when a survivor first reported LEADING (the election
alone) and how many requests failed in between.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from harness.bench import loadgen as lg
from harness.bench.base import BenchOptions, BenchResult, Column, PlotSpec, Row, Scalar
from harness.targets import Ensemble, Role, TargetError, start_stable_ensemble


@dataclass(frozen=True, slots=True, kw_only=True)
class Scale:
    """Sizes of one run."""

    repetitions: int
    blocks: int
    settle: float
    """Seconds of load before each kill."""
    after: float
    """Seconds of load kept after the first commit (for the timeline)."""
    rate: float
    clients: int


FULL: Final = Scale(repetitions=20, blocks=2, settle=1.0, after=0.5, rate=200.0, clients=8)
SMOKE: Final = Scale(repetitions=2, blocks=1, settle=0.4, after=0.2, rate=100.0, clients=4)
RESOLVE_TIMEOUT: Final = 20.0
STABLE_TIMEOUT: Final = 10.0


def _scale(options: BenchOptions) -> Scale:
    base = SMOKE if options.smoke else FULL
    reps = options.repeats if options.repeats is not None else base.repetitions
    return Scale(
        repetitions=reps,
        blocks=max(1, min(base.blocks, reps)),
        settle=options.duration if options.duration is not None else base.settle,
        after=base.after,
        rate=base.rate,
        clients=base.clients,
    )


@dataclass
class _Runner:
    """One variant's ensemble across its blocks of repetitions."""

    variant: str
    scale: Scale
    workdir: Path
    ensemble: Ensemble | None = None
    fresh: int = 0
    reps: list[dict[str, Any]] = field(default_factory=list)

    def _ensure(self) -> Ensemble:
        if self.ensemble is not None:
            try:
                self.ensemble.wait_stable(STABLE_TIMEOUT)
                if len(self.ensemble.running()) == len(self.ensemble.members):
                    return self.ensemble
            except TargetError:
                pass
            self.ensemble.stop()
            self.ensemble = None
        self.fresh += 1
        self.ensemble = start_stable_ensemble(
            lg.BenchTarget(self.variant), 3, self.workdir / f"ensemble{self.fresh}"
        )
        return self.ensemble

    def close(self) -> None:
        if self.ensemble is not None:
            self.ensemble.stop()
            self.ensemble = None

    def repetition(self) -> None:
        ens = self._ensure()
        spec = lg.LoadSpec(
            clients=self.scale.clients,
            rate=self.scale.rate,
            duration=0.0,
            warmup=0.0,
            timeout=1.0,
        )
        gen = lg.LoadGen(spec, lg.request_addrs(ens))
        try:
            time.sleep(self.scale.settle)
            leader = ens.wait_stable(STABLE_TIMEOUT)
            survivors = [m for m in ens.members if m is not leader]
            marks = {m.name: len(m.snapshot()) for m in survivors}
            kill_ts = time.time()
            index = gen.mark(kill_ts)
            leader.kill()
            resolved = gen.wait_resolved(index, RESOLVE_TIMEOUT)
            time.sleep(self.scale.after)
            result = gen.wait()
        finally:
            gen.close()
        elected: float | None = None
        for m in survivors:
            for ev in m.snapshot()[marks[m.name] :]:
                if ev.get("event") == "status" and ev.get("status") == Role.LEADING.value:
                    t = (float(ev["ts"]) - kill_ts) * 1000
                    elected = t if elected is None else min(elected, t)
                    break
        mark = (result.get("marks") or [{}])[0]
        self.reps.append(
            {
                "failover_ms": resolved["first_commit_ms"] if resolved else None,
                "first_any_ms": resolved["first_any_ms"] if resolved else None,
                "elected_ms": elected,
                "errors": int(mark.get("errors_after", 0)),
                "kill_offset_s": float(mark.get("offset_s", 0.0)),
                "timeline": result.get("timeline") or [],
                "step": float(result.get("timeline_step_s", 0.1)),
            }
        )
        leader.restart()


def _row(variant: str, runner: _Runner) -> Row:
    times = [float(r["failover_ms"]) for r in runner.reps if r["failover_ms"] is not None]
    elected = [float(r["elected_ms"]) for r in runner.reps if r["elected_ms"] is not None]
    return {
        "impl": variant,
        "repetitions": len(runner.reps),
        "resolved": len(times),
        "p50_ms": lg.quantile(times, 0.5),
        "p99_ms": lg.quantile(times, 0.99),
        "min_ms": min(times) if times else None,
        "max_ms": max(times) if times else None,
        "elected_p50_ms": lg.quantile(elected, 0.5),
        "errors_p50": lg.median([float(r["errors"]) for r in runner.reps]),
        "fresh_ensembles": runner.fresh,
    }


def _ratio(rows: Mapping[str, Row], num: str, key: str) -> float | None:
    a = rows.get(num, {}).get(key)
    b = rows.get(lg.GOMETA, {}).get(key)
    if isinstance(a, float) and isinstance(b, float) and b > 0:
        return a / b
    return None


def _median_rep(runner: _Runner) -> dict[str, Any] | None:
    done = sorted(
        (r for r in runner.reps if r["failover_ms"] is not None), key=lambda r: r["failover_ms"]
    )
    return done[len(done) // 2] if done else None


def _timelines(runners: Mapping[str, _Runner]) -> tuple[list[Row], list[Row]]:
    """The median repetition's commits/s per 100 ms of each variant, kill at t=0."""
    lines: list[Row] = []
    markers: list[Row] = [{"impl": "", "t_s": 0.0, "label": "kill -9 leader"}]
    for variant, runner in runners.items():
        rep = _median_rep(runner)
        if rep is None:
            continue
        step = rep["step"]
        for i, (ok, _err) in enumerate(rep["timeline"]):
            lines.append(
                {
                    "impl": variant,
                    "t_s": (i + 0.5) * step - rep["kill_offset_s"],
                    "commits_per_s": ok / step,
                }
            )
        markers.append(
            {
                "impl": variant,
                "t_s": rep["failover_ms"] / 1000,
                "label": f"{variant}: first commit {rep['failover_ms']:.0f} ms",
            }
        )
    return lines, markers


def _cdf(runners: Mapping[str, _Runner]) -> list[Row]:
    rows: list[Row] = []
    for variant, runner in runners.items():
        times = sorted(float(r["failover_ms"]) for r in runner.reps if r["failover_ms"] is not None)
        for i, t in enumerate(times):
            rows.append({"impl": variant, "failover_ms": t, "fraction": (i + 1) / len(times)})
    return rows


COLUMNS: Final = (
    Column(key="impl", header="impl"),
    Column(key="repetitions", header="reps", fmt="d"),
    Column(key="resolved", header="resolved", fmt="d"),
    Column(key="p50_ms", header="p50", unit="ms", fmt=".0f"),
    Column(key="p99_ms", header="p99", unit="ms", fmt=".0f"),
    Column(key="min_ms", header="min", unit="ms", fmt=".0f"),
    Column(key="max_ms", header="max", unit="ms", fmt=".0f"),
    Column(key="elected_p50_ms", header="LEADING", unit="ms", fmt=".0f"),
    Column(key="errors_p50", header="failed", fmt=".0f"),
    Column(key="fresh_ensembles", header="ens", fmt="d"),
)


@dataclass(frozen=True, slots=True)
class FailoverBenchmark:
    """``gmc bench failover``."""

    name: str = "failover"
    description: str = "kill -9 the leader under load: ms to the first commit under a new leader"

    def run(self, options: BenchOptions) -> BenchResult:
        variants = lg.expand_impls(options.impls)
        scale = _scale(options)
        per_block = [
            scale.repetitions // scale.blocks + (1 if b < scale.repetitions % scale.blocks else 0)
            for b in range(scale.blocks)
        ]
        with tempfile.TemporaryDirectory(prefix="gmc-bench-failover-") as tmp:
            runners = {v: _Runner(v, scale, Path(tmp) / v) for v in variants}
            for block, count in enumerate(per_block):
                shift = (block + options.seed) % len(variants)
                for variant in variants[shift:] + variants[:shift]:
                    runner = runners[variant]
                    try:
                        for _ in range(count):
                            runner.repetition()
                    finally:
                        runner.close()
        rows = {v: _row(v, r) for v, r in runners.items()}
        summary: dict[str, Scalar] = {}
        refs = [v for v in variants if v != lg.GOMETA]
        if lg.GOMETA in variants:
            for ref in refs:
                suffix = "" if ref == refs[0] else "_" + ref.removeprefix("refnode-")
                summary[f"failover_p50_ratio{suffix}"] = _ratio(rows, ref, "p50_ms")
                summary[f"failover_p99_ratio{suffix}"] = _ratio(rows, ref, "p99_ms")
            if refs:
                summary["headline_impl"] = refs[0]
        lines, markers = _timelines(runners)
        reps: list[Row] = [
            {
                "impl": v,
                "repetition": i,
                "failover_ms": r["failover_ms"],
                "first_any_ms": r["first_any_ms"],
                "elected_ms": r["elected_ms"],
                "errors": r["errors"],
            }
            for v, runner in runners.items()
            for i, r in enumerate(runner.reps)
        ]
        return BenchResult(
            name=self.name,
            description=self.description,
            columns=COLUMNS,
            rows=tuple(rows.values()),
            environment={
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": os.cpu_count() or 0,
                "system": platform.platform(terse=True),
            },
            parameters={
                "members": 3,
                "repetitions": scale.repetitions,
                "blocks": scale.blocks,
                "settle_s": scale.settle,
                "rate": scale.rate,
                "clients": scale.clients,
                "impls": ",".join(variants),
            },
            notes=(
                "failover = from the kill -9 to the commit of the first request sent after it "
                "(Go net/rpc load generator, clients round-robin over the members)",
                "LEADING = first survivor status event reporting LEADING after the kill",
                "ratios are refnode / gometa; refnode-mem is the equal-durability comparison",
            ),
            plots=(
                PlotSpec(
                    filename="failover_timeline.png",
                    title="commits/s around the kill (median repetition)",
                    kind="line",
                    series="timeline",
                    markers="markers",
                    x="t_s",
                    y=("commits_per_s",),
                    group="impl",
                    xlabel="seconds from kill -9",
                    ylabel="commits/s (100 ms bins)",
                ),
                PlotSpec(
                    filename="failover_cdf.png",
                    title="failover time over repetitions (CDF)",
                    kind="step",
                    series="cdf",
                    x="failover_ms",
                    y=("fraction",),
                    group="impl",
                    where="post",
                    xlabel="ms from kill -9 to first commit",
                    ylabel="fraction of repetitions",
                ),
            ),
            smoke=options.smoke,
            summary=summary,
            series={
                "repetitions": reps,
                "timeline": lines,
                "markers": markers,
                "cdf": _cdf(runners),
            },
        )


BENCHMARK: Final = FailoverBenchmark()
