"""Datadriven interaction scripts in tests/testdata/refnode_core/*.txt.

Regenerate the golden output with ``pytest tests/refnode/core --rewrite`` (or
``REWRITE=1``) and review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.refnode.core.datadriven import run_file

DATA = Path(__file__).parents[2] / "testdata" / "refnode_core"


@pytest.mark.parametrize("path", sorted(DATA.glob("*.txt")), ids=lambda p: p.stem)
def test_script(path: Path, pytestconfig: pytest.Config) -> None:
    rewrite = bool(pytestconfig.getoption("--rewrite", default=False)) or bool(
        os.environ.get("REWRITE")
    )
    expected, actual = run_file(path, rewrite)
    if not rewrite:
        assert actual == expected, f"{path.name} changed; rerun with --rewrite and review"
