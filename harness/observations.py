"""Findings about the implementations under test, kept as JSON lines.

A test that meets a known weakness of a node (for example gometa's cold-start
election race, spec W41) records it here instead of failing or hiding it.
Each record is one line appended with O_APPEND, which keeps lines from
parallel workers whole.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from harness.binaries import REPO_ROOT


class ObservationWarning(UserWarning):
    """Raised as a warning so pytest (xdist included) lists each observation
    in its warnings summary without failing the test."""


def observations_path() -> Path:
    """``$GMC_OBSERVATIONS`` or ``reports/observations.jsonl`` in the repo."""
    env = os.environ.get("GMC_OBSERVATIONS")
    return Path(env) if env else REPO_ROOT / "reports" / "observations.jsonl"


def record(kind: str, target: str, **details: Any) -> dict[str, Any]:
    """Append one observation, echo it to stderr, and return it."""
    rec = {"ts": time.time(), "kind": kind, "target": target, **details}
    path = observations_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(rec, sort_keys=True, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    print(f"OBSERVATION {line.strip()}", file=sys.stderr)
    warnings.warn(
        f"observation {kind} on {target}: {line.strip()}", ObservationWarning, stacklevel=2
    )
    return rec
