"""Root test options (kept minimal; per-area fixtures live in each directory)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rewrite",
        action="store_true",
        default=False,
        help="regenerate golden outputs of datadriven tests instead of comparing",
    )
    parser.addoption(
        "--sim-seed",
        action="store",
        default=None,
        help="run only this simulator seed (e.g. 1234 or 1234:5 for 5 members)",
    )
