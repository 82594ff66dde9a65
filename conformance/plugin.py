"""The pytest plugin that puts a system under test behind the cases.

``gmc conform`` builds one :class:`ConformancePlugin` per target and passes it
to ``pytest.main``. It provides the fixtures (a ready leader of a 3-member
ensemble, shared by a module's non-destructive cases; a fresh ensemble for
each destructive case) and the ``judge`` that turns what a case saw into a
verdict, records it and fails the test when the verdict is not the one
expected for this target.
"""

from __future__ import annotations

import re
import shlex
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.verdicts import GO_TARGET, CaseResult, CaseSpec, Outcome, Verdict
from harness.binaries import REPO_ROOT
from harness.targets import (
    CommandTarget,
    Ensemble,
    GoHostTarget,
    ProcessMember,
    RefnodeTarget,
    Target,
    start_stable_ensemble,
)

PHASES = ("framing",)
PLUGIN_KEY = pytest.StashKey["ConformancePlugin"]()
CASE_ID = re.compile(r"^[A-Z]{2}-\d{2}$")


def case(case_id: str, **expectations: Any) -> pytest.MarkDecorator:
    """Tie a test to its spec case and declare its expectations (CaseSpec)."""
    if not CASE_ID.match(case_id):
        raise ValueError(f"bad case id {case_id!r}")
    return pytest.mark.case(CaseSpec(case_id, **expectations))


def make_target(spec: str) -> tuple[str, Target]:
    """``refnode``, ``gometa`` or ``command:TEMPLATE`` → (report name, Target)."""
    if spec == "refnode":
        return "refnode", RefnodeTarget(durable=False)
    if spec in (GO_TARGET, "go"):
        return GO_TARGET, GoHostTarget()
    if spec.startswith("command:"):
        template = spec.removeprefix("command:").strip()
        if not template:
            raise ValueError("command: needs a template, e.g. command:'mynode --config {config}'")
        return "command", CommandTarget(template, name="command")
    raise ValueError(f"unknown target {spec!r}: use refnode, gometa or command:TEMPLATE")


def gometa_version() -> str:
    """The gometa module version the Go host pins (harness/gometa_host/go.mod)."""
    gomod = REPO_ROOT / "harness" / "gometa_host" / "go.mod"
    try:
        text = gomod.read_text()
    except OSError:
        return "unknown"
    found = re.search(r"github\.com/couchbase/gometa\s+(\S+)", text)
    return found.group(1) if found else "unknown"


@dataclass(slots=True)
class Sut:
    """The system under test: a stable ensemble and the member a case talks to."""

    ensemble: Ensemble
    leader: ProcessMember

    @property
    def message(self) -> str:
        return self.leader.config.host.message

    @property
    def election(self) -> str:
        return self.leader.config.host.election

    def followers(self) -> list[ProcessMember]:
        return [m for m in self.ensemble.members if m is not self.leader]


class Judge:
    """Turns one case's outcome into a recorded verdict."""

    def __init__(self, plugin: ConformancePlugin, spec: CaseSpec, test: str) -> None:
        self.plugin = plugin
        self.spec = spec
        self.test = test
        self.started = time.monotonic()
        self.observed: dict[str, Any] = {}

    def observe(self, **facts: Any) -> None:
        """Remember facts for the report (JSON-serialisable values)."""
        self.observed.update(facts)

    def conclude(self, outcome: Outcome, detail: str) -> Verdict:
        verdict = self.spec.verdict(outcome, self.plugin.target_name)
        expected = self.spec.expected(self.plugin.target_name, self.plugin.strict)
        if outcome is Outcome.GO_DEVIATION and verdict is Verdict.FAIL:
            detail = f"shows the documented Go deviation: {detail}"
        result = CaseResult(
            case_id=self.spec.case_id,
            test=self.test,
            verdict=verdict,
            expected=sorted(v.value for v in expected),
            detail=detail,
            observed=dict(self.observed),
            note=self.spec.go_note if self.plugin.target_name == GO_TARGET else "",
            seconds=round(time.monotonic() - self.started, 3),
        )
        self.plugin.record(result)
        assert result.ok, (
            f"{self.spec.case_id}: verdict {verdict.value}, expected {sorted(expected)}: {detail}"
        )
        return verdict


class ConformancePlugin:
    """Fixtures and result collection for one target."""

    def __init__(self, target_spec: str, *, strict: bool = False, workdir: Path | None = None):
        self.target_name, self.target = make_target(target_spec)
        self.target_spec = target_spec
        self.strict = strict
        self._own_tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._own_tmp = tempfile.TemporaryDirectory(prefix=f"gmc-conform-{self.target_name}-")
            workdir = Path(self._own_tmp.name)
        self.workdir = workdir
        self.results: dict[str, CaseResult] = {}
        self.command: list[str] = []
        self._n = 0

    # -- pytest hooks ----------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[PLUGIN_KEY] = self
        config.addinivalue_line("markers", "case(spec): the spec case a test checks")
        for phase in PHASES:
            config.addinivalue_line("markers", f"{phase}: phase marker (spec §12)")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
        spec = self.spec_of(item)
        if spec is None or not report.failed or spec.case_id in self.results:
            return
        expected = spec.expected(self.target_name, self.strict)
        self.record(
            CaseResult(
                case_id=spec.case_id,
                test=item.name,
                verdict=Verdict.ERROR if report.when != "call" else Verdict.FAIL,
                expected=sorted(v.value for v in expected),
                detail=f"{report.when} failed: {call.excinfo.exconly() if call.excinfo else ''}"[
                    :500
                ],
            )
        )

    # -- fixtures --------------------------------------------------------
    @staticmethod
    def spec_of(item: pytest.Item) -> CaseSpec | None:
        marker = item.get_closest_marker("case")
        if marker is None:
            return None
        spec = marker.args[0]
        return spec if isinstance(spec, CaseSpec) else None

    def start(self, label: str) -> Sut:
        """A fresh stable 3-member ensemble of the target, and its leader."""
        self._n += 1
        ens = start_stable_ensemble(self.target, 3, self.workdir / f"{self._n:02d}-{label}")
        leader = ens.wait_stable()
        if not self.command:
            self.command = leader.command()
        return Sut(ens, leader)

    # -- results ---------------------------------------------------------
    def record(self, result: CaseResult) -> None:
        self.results[result.case_id] = result

    def describe_command(self) -> list[str]:
        if self.command:
            return self.command
        return shlex.split(self.target_spec)

    def close(self) -> None:
        if self._own_tmp is not None:
            self._own_tmp.cleanup()


def plugin_of(config: pytest.Config) -> ConformancePlugin:
    """The plugin ``gmc conform`` registered for this session."""
    try:
        return config.stash[PLUGIN_KEY]
    except KeyError:
        raise pytest.UsageError(
            "the conformance cases run through `gmc conform --target ...`"
        ) from None


def leader_sut(request: pytest.FixtureRequest) -> Iterator[Sut]:
    """A ready leader of a 3-member ensemble, shared by one module's cases."""
    sut = plugin_of(request.config).start(request.module.__name__.rpartition(".")[2])
    try:
        yield sut
    finally:
        sut.ensemble.stop()


def fresh_sut(request: pytest.FixtureRequest) -> Iterator[Sut]:
    """A 3-member ensemble of its own, for one destructive case."""
    sut = plugin_of(request.config).start(request.node.name)
    try:
        yield sut
    finally:
        sut.ensemble.stop()


def judge(request: pytest.FixtureRequest) -> Judge:
    """The case's judge: records the verdict and fails on an unexpected one."""
    plugin = plugin_of(request.config)
    spec = plugin.spec_of(request.node)
    if spec is None:
        raise pytest.UsageError(f"{request.node.name} has no @case(...) marker")
    return Judge(plugin, spec, request.node.name)
