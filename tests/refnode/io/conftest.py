"""Fixtures for the reference node's I/O tests: the Go host is required, never skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.binaries import gometa_host


@pytest.fixture(scope="session")
def gohost_binary() -> Path:
    """Fails (does not skip) with the build command when the binary is missing."""
    return gometa_host()
