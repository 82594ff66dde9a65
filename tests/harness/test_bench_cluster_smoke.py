"""``gmc bench cluster`` and ``gmc bench failover`` end to end, in smoke mode.

Real 3-member ensembles of every variant (gometa, refnode in memory, refnode
durable) under the Go load generator, through the real CLI entry point. Only
the structure is checked: the numbers of a smoke run mean nothing.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from harness import cli

pytestmark = pytest.mark.gometa

VARIANTS = {"gometa", "refnode-mem", "refnode-durable"}


def _positive(value: object) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool) and value > 0


def _run(name: str, capsys: pytest.CaptureFixture[str], report_dir: Path) -> dict[str, object]:
    rc = cli.main(
        [
            "bench",
            name,
            "--impl",
            "refnode,gometa",
            "--smoke",
            "--json",
            "--report-dir",
            str(report_dir),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    doc: dict[str, object] = json.loads(out)  # exactly one JSON document
    assert doc["name"] == name
    assert doc["smoke"] is True
    assert json.loads((report_dir / f"{name}.json").read_text(encoding="utf-8")) == doc
    return doc


def _pngs_written(report_dir: Path, doc: dict[str, object]) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        return
    for png in (
        ("cluster_latency_fixed.png", "cluster_throughput.png")
        if doc["name"] == "cluster"
        else ("failover_timeline.png", "failover_cdf.png")
    ):
        assert (report_dir / png).stat().st_size > 0, png


@pytest.mark.timeout(120)
def test_bench_cluster_smoke_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Every variant has both load phases with throughput and latency; the ratios are there."""
    doc = _run("cluster", capsys, tmp_path)
    rows = doc["rows"]
    assert isinstance(rows, list)
    seen = {(r["impl"], r["phase"]) for r in rows}
    assert seen == {(v, p) for v in VARIANTS for p in ("fixed", "saturation")}
    for row in rows:
        for key in (
            "throughput",
            "p50_ms",
            "p99_ms",
            "p999_ms",
            "nodes_cpu_pct",
            "loadgen_cpu_pct",
        ):
            assert _positive(row[key]), (row["impl"], row["phase"], key)
        assert row["p50_ms"] <= row["p99_ms"] <= row["p999_ms"]
    for key in (
        "throughput_ratio",
        "p99_latency_ratio",
        "throughput_ratio_durable",
        "p99_latency_ratio_durable",
    ):
        assert _positive(doc[key]), key
        assert isinstance(doc["summary"], dict) and doc["summary"][key] == doc[key]
    series = doc["series"]
    assert isinstance(series, dict)
    assert {r["impl"] for r in series["timeline_saturation"]} == VARIANTS
    assert {r["impl"] for r in series["latency_fixed"]} == VARIANTS
    _pngs_written(tmp_path, doc)


@pytest.mark.timeout(120)
def test_bench_failover_smoke_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Every variant failed over and committed again; the failover ratios are there."""
    doc = _run("failover", capsys, tmp_path)
    rows = doc["rows"]
    assert isinstance(rows, list)
    assert {r["impl"] for r in rows} == VARIANTS
    for row in rows:
        assert row["repetitions"] >= 1
        assert row["resolved"] >= 1, row
        assert _positive(row["p50_ms"]) and _positive(row["p99_ms"]), row
    for key in ("failover_p50_ratio", "failover_p99_ratio"):
        assert _positive(doc[key]), key
    _pngs_written(tmp_path, doc)


def test_bench_cluster_unknown_impl(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An unknown implementation is a usage error, before any process starts."""
    rc = cli.main(["bench", "cluster", "--impl", "nope", "--smoke", "--report-dir", str(tmp_path)])
    assert rc == 2
    assert "unknown implementation" in capsys.readouterr().err
