"""Fixtures for harness tests: the Go host is required, never skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.binaries import gometa_host
from harness.targets import Ensemble, GoHostTarget, start_stable_ensemble


@pytest.fixture(scope="session")
def gohost_binary() -> Path:
    """Fails (does not skip) with the build command when the binary is missing."""
    return gometa_host()


@pytest.fixture(scope="module")
def go_ensemble(
    tmp_path_factory: pytest.TempPathFactory, gohost_binary: Path
) -> Iterator[Ensemble]:
    """A 3-member Go ensemble that agreed on a leader and answers solicits."""
    ens = start_stable_ensemble(GoHostTarget(), 3, tmp_path_factory.mktemp("go3"))
    try:
        yield ens
    finally:
        ens.stop()
