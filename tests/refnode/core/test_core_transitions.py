"""Every (state, input) pair of every table is exercised (style §10, §13).

The datadriven scripts (tests/testdata/refnode_core/*.txt) and a sample of
seeded simulator runs of every family are replayed with a trace hook; each
:class:`~refnode.core.trace.Transition` they produce must be a move of its
table (or its documented failure move), and together they must visit every
pair of :data:`refnode.core.tables.TABLES`. A pair may be missing only if it
is listed in :data:`IMPOSSIBLE` with the reason it cannot happen.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from refnode.core.tables import TABLES
from refnode.core.trace import Transition
from tests.refnode.core.datadriven import run_file
from tests.sim.sim import FAMILIES, run_seed

DATA = Path(__file__).parents[2] / "testdata" / "refnode_core"
SIM_SEEDS = range(8)
"""Seeds per simulator family; the datadriven scripts carry the rare pairs."""

IMPOSSIBLE: dict[tuple[str, str, str], str] = {
    ("node", "ELECTING", "PAUSED"): (
        "defensive only: ends a run whose election winner has no MessageAddr; the "
        "site counts only votes from members for members (W12 filter in Node._on_vote, "
        "certify() requires a member's LEADING vote), and every member has one"
    ),
}
"""Table pairs no input can reach, each with the reason (machine, state, input/target)."""


class Recorder:
    def __init__(self) -> None:
        self.seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.stray: list[Transition] = []
        self.moves = 0

    def __call__(self, t: Transition) -> None:
        self.moves += 1
        table = TABLES[t.machine]
        if not table.allows(t):
            self.stray.append(t)
        self.seen[t.machine].add(table.pair(t))


def _record_scripts(rec: Recorder) -> None:
    for path in sorted(DATA.glob("*.txt")):
        run_file(path, rewrite=False, sink=rec)


def _record_sim(rec: Recorder) -> None:
    for family in FAMILIES:
        for seed in SIM_SEEDS:
            run_seed(seed, family, trace=rec)


def _missing(rec: Recorder) -> list[str]:
    out = []
    for name, table in TABLES.items():
        for pair in sorted(table.pairs() - rec.seen[name]):
            if (name, *pair) not in IMPOSSIBLE:
                out.append(f"{name}: {pair[0]} x {pair[1]}")
    return out


def test_every_table_pair_is_exercised() -> None:
    rec = Recorder()
    _record_scripts(rec)
    _record_sim(rec)
    assert rec.stray == [], f"moves outside their tables: {rec.stray[:10]}"
    missing = _missing(rec)
    summary = ", ".join(
        f"{n} {len(t.pairs() & rec.seen[n])}/{len(t.pairs())}" for n, t in TABLES.items()
    )
    assert missing == [], f"pairs never visited ({summary}):\n" + "\n".join(missing)
    # The allow-list names real table pairs, and none of them was visited.
    for machine, state, inp in IMPOSSIBLE:
        assert (state, inp) in TABLES[machine].pairs(), (machine, state, inp)
        assert (state, inp) not in rec.seen[machine], (
            f"{machine} {state} x {inp} was visited: remove it from IMPOSSIBLE"
        )


def test_scripts_alone_show_the_failure_moves() -> None:
    """Failure moves are traced with their reason as the input."""
    rec = Recorder()
    failures: list[Transition] = []

    def sink(t: Transition) -> None:
        rec(t)
        if t.to_state == "FAILED":
            failures.append(t)

    for path in sorted(DATA.glob("*.txt")):
        run_file(path, rewrite=False, sink=sink)
    machines = {t.machine for t in failures}
    assert machines == {"leader_sync", "follower_sync"}
    assert all(not t.input.startswith(("RECV_", "QUORUM_")) for t in failures)


def test_coverage_check_is_not_vacuous() -> None:
    """Without transitions.txt, the check names the pairs only it visits."""
    rec = Recorder()
    for path in sorted(DATA.glob("*.txt")):
        if path.name != "transitions.txt":
            run_file(path, rewrite=False, sink=rec)
    missing = _missing(rec)
    assert "leader_broadcast: WATCHER x RECV_PROPOSAL" in missing
    assert "node: FOLLOWING x STOPPED" in missing


def test_no_hook_builds_no_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tracing is free when unused: without a hook no Transition is built."""
    from refnode.core import trace

    def boom(**kw: object) -> Transition:
        raise AssertionError("a Transition was built without a hook")

    monkeypatch.setattr(trace, "Transition", boom)
    run_seed(3, "w3")
