"""``gmc conform`` end to end on a couple of cases per target, and its report.

The full suite runs under ``make conform``; here two cases per target (one
that must pass, one where the targets must differ) keep CI short.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.verdicts import CaseSpec, Outcome, Verdict

REPO = Path(__file__).resolve().parents[2]
KEYWORD = "ft_01 or fu_04"


def _conform(target: str, report_dir: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "conform", "--target", target, "-k", KEYWORD,
         "--report-dir", str(report_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    name = "gometa" if target == "gometa" else target
    report = json.loads((report_dir / "conformance" / f"{name}.json").read_text())
    return proc, report


def _check_shape(report: dict[str, Any], target: str) -> dict[str, Any]:
    assert report["target"] == target
    assert report["gometa_version"].endswith("05cb6b2e299f")
    assert report["command"], "the member command is recorded"
    assert report["ok"] is True
    by_id = {r["case_id"]: r for r in report["results"]}
    assert set(by_id) == {"FT-01", "FU-04"}
    for r in by_id.values():
        assert {"verdict", "expected", "ok", "detail", "observed", "test"} <= set(r)
        assert r["ok"] is True
    return by_id


def test_conform_refnode_smoke(tmp_path: Path) -> None:
    proc, report = _conform("refnode", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    by_id = _check_shape(report, "refnode")
    assert by_id["FT-01"]["verdict"] == "PASS"
    assert by_id["FU-04"]["verdict"] == "PASS"
    assert by_id["FU-04"]["observed"]["solicit_after"] is True
    assert "FT-01" in proc.stdout and "refnode: 2 cases, OK" in proc.stdout
    assert (tmp_path / "conformance" / "refnode.md").read_text().startswith("# Conformance")


@pytest.mark.gometa
def test_conform_gometa_smoke(tmp_path: Path) -> None:
    proc, report = _conform("gometa", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    by_id = _check_shape(report, "gometa")
    assert by_id["FT-01"]["verdict"] == "PASS"
    # W2: the Go node's election site closes on a Commit datagram.
    assert by_id["FU-04"]["verdict"] == "KNOWN-GO-DEVIATION"
    assert by_id["FU-04"]["observed"]["solicit_after"] is False
    assert "gometa-host" in " ".join(report["command"])


def test_CaseSpec_expectations() -> None:
    lenient = CaseSpec("FT-10", go=Verdict.NON_STRICT, lenient_allowed=True)
    assert lenient.expected("gometa", strict=False) == {Verdict.NON_STRICT}
    assert lenient.expected("refnode", strict=False) == {Verdict.PASS, Verdict.NON_STRICT}
    assert lenient.expected("refnode", strict=True) == {Verdict.PASS}
    deviation = CaseSpec("FU-04", go=Verdict.KNOWN_GO_DEVIATION)
    # Go's documented deviation is a FAIL for anything that is not the Go node.
    assert deviation.verdict(Outcome.GO_DEVIATION, "gometa") is Verdict.KNOWN_GO_DEVIATION
    assert deviation.verdict(Outcome.GO_DEVIATION, "refnode") is Verdict.FAIL
    assert deviation.verdict(Outcome.LENIENT, "refnode") is Verdict.FAIL
    assert deviation.verdict(Outcome.OTHER, "gometa") is Verdict.FAIL
    assert lenient.verdict(Outcome.LENIENT, "command") is Verdict.NON_STRICT
