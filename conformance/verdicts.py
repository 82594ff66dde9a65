"""Verdicts, the expectation of every case per target, and the reports.

A case classifies what the node did into an :class:`Outcome`; the target and
the case's declared expectations turn that into a :class:`Verdict`:

* PASS: the node did what the spec's "must" says;
* NON-STRICT: the node accepted what Go accepts but the strict reading of the
  spec rejects (docs/spec-findings.md: missing required fields);
* KNOWN-GO-DEVIATION: the Go node shows the behaviour the spec documents as a
  Go finding (``[Go: …]``, or a defect of the pinned gometa version);
  for any other target the same behaviour is a FAIL;
* FAIL: anything else; ERROR: the case could not run (setup failed).
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GO_TARGET = "gometa"


class Verdict(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    NON_STRICT = "NON-STRICT"
    KNOWN_GO_DEVIATION = "KNOWN-GO-DEVIATION"
    ERROR = "ERROR"


class Outcome(enum.Enum):
    """What a case saw, before the target decides what it means."""

    STRICT = "strict"  # the spec's must
    LENIENT = "lenient"  # accepted like Go, where the strict spec rejects
    GO_DEVIATION = "go-deviation"  # the documented Go behaviour
    OTHER = "other"  # neither


@dataclass(frozen=True, slots=True)
class CaseSpec:
    """A case id and what each kind of target is expected to show."""

    case_id: str
    go: Verdict = Verdict.PASS
    lenient_allowed: bool = False
    go_note: str = ""

    def expected(self, target: str, strict: bool) -> frozenset[Verdict]:
        """The verdicts that count as conforming for ``target``.

        The Go node must show exactly its documented behaviour (a change is
        news either way). Other targets must pass; where Go's leniency is
        the documented reality they may also be NON-STRICT, unless
        ``strict``.
        """
        if target == GO_TARGET:
            return frozenset({self.go})
        if self.lenient_allowed and not strict:
            return frozenset({Verdict.PASS, Verdict.NON_STRICT})
        return frozenset({Verdict.PASS})

    def verdict(self, outcome: Outcome, target: str) -> Verdict:
        if outcome is Outcome.STRICT:
            return Verdict.PASS
        if outcome is Outcome.LENIENT and self.lenient_allowed:
            return Verdict.NON_STRICT
        if (
            outcome is Outcome.GO_DEVIATION
            and target == GO_TARGET
            and (self.go is Verdict.KNOWN_GO_DEVIATION)
        ):
            return Verdict.KNOWN_GO_DEVIATION
        return Verdict.FAIL


@dataclass(slots=True)
class CaseResult:
    case_id: str
    test: str
    verdict: Verdict
    expected: list[str]
    detail: str
    observed: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.verdict.value in self.expected


@dataclass(slots=True)
class TargetReport:
    target: str
    strict: bool
    command: list[str]
    gometa_version: str
    results: list[CaseResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        for r, j in zip(self.results, out["results"], strict=True):
            j["verdict"] = r.verdict.value
            j["ok"] = r.ok
        return out

    def to_markdown(self) -> str:
        lines = [
            f"# Conformance: {self.target}",
            "",
            f"* gometa version (Go host pin): `{self.gometa_version}`",
            f"* command (one member): `{' '.join(self.command)}`",
            f"* strict: {self.strict}",
            f"* result: {'OK' if self.ok else 'UNEXPECTED VERDICTS'}",
            "",
            "| case | verdict | expected | ok | detail |",
            "|---|---|---|---|---|",
        ]
        for r in self.results:
            detail = r.detail.replace("|", "\\|").replace("\n", " ")
            if r.note:
                detail += f" ({r.note})"
            lines.append(
                f"| {r.case_id} | {r.verdict.value} | {', '.join(r.expected)} | "
                f"{'yes' if r.ok else 'NO'} | {detail} |"
            )
        return "\n".join(lines) + "\n"

    def write(self, directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        js = directory / f"{self.target}.json"
        md = directory / f"{self.target}.md"
        js.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        md.write_text(self.to_markdown())
        return js, md
