"""docs/state-diagrams/ is generated from the tables and must not go stale (style §4).

Regenerate with ``python docs/state-diagrams/make_state_diagrams.py``.
"""

from __future__ import annotations

from pathlib import Path

from refnode.core.diagrams import render
from refnode.core.tables import TABLES

DOCS = Path(__file__).parents[3] / "docs" / "state-diagrams"


def test_diagrams_match_the_tables() -> None:
    files = render()
    stale = [
        n for n, text in files.items() if not (DOCS / n).exists() or (DOCS / n).read_text() != text
    ]
    extra = sorted(
        p.name for p in DOCS.iterdir() if p.name not in files and p.name != "make_state_diagrams.py"
    )
    assert not stale and not extra, (
        f"stale: {stale}, not generated: {extra}; "
        "run python docs/state-diagrams/make_state_diagrams.py and review the diff"
    )


def test_diagrams_show_every_edge() -> None:
    """Every table edge appears in both renderings (merged labels included)."""
    files = render()
    for table in TABLES.values():
        dot, mmd = files[f"{table.name}.dot"], files[f"{table.name}.mmd"]
        for e in table.edges:
            assert f'"{e.from_state}" -> "{e.to_state}"' in dot
            assert f"{e.from_state} --> {e.to_state}" in mmd
            if e.input:
                label = e.input if not e.action else f"{e.input} / {e.action}"
                assert label in dot and label in mmd
