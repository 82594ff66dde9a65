"""Thousands of seeded runs of 3- and 5-member ensembles, with watchers, and
of the embedded shape, under faults.

Each run: cold start, a random write load from random nodes, up to four
faults (crash with loss of non-durable state, cut link, isolated member),
then heal, restart everyone and settle. The extended families (``bh3``,
``bh5``, ``w3``, ``emb``; see ``sim.FAMILIES``) add TCP blackholes (silent
loss, no reset: only keepalive and retransmission timeouts notice),
power-offs, watchers, the embedded leader, and small
``max_outstanding_proposals``/``max_client_queue`` limits. Checked
throughout and at the end (see ``sim.Simulator``): at most one leader per
epoch, durable committed logs (watchers' included) are prefixes of each
other, no acknowledged write is lost, commit txids strictly increase,
epochs never go back, each shape keeps to its roles, watchers never Accept.

A failure prints ``seed=S``; replay exactly one run with
``pytest tests/sim --sim-seed S:F`` (F a family: 3, 5, bh3, bh5, w3, emb)
or ``SIM_SEED=S:F``.
"""

from __future__ import annotations

import os

import pytest

from tests.sim.sim import FAMILIES, run_seed

BLOCK = 50
RUNS = {"3": 1000, "5": 500, "bh3": 300, "bh5": 100, "w3": 150, "emb": 250}
"""Runs per family: 2300 in all (about 100 s of CPU, split over the workers)."""


def _only(config: pytest.Config) -> tuple[int, str] | None:
    raw = config.getoption("--sim-seed", default=None) or os.environ.get("SIM_SEED")
    if not raw:
        return None
    seed, _, fam = str(raw).partition(":")
    fam = fam or "3"
    assert fam in FAMILIES, f"unknown family {fam!r}: one of {sorted(FAMILIES)}"
    return int(seed), fam


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Blocks of seeds, or exactly the one ``--sim-seed`` selects (no skipped blocks)."""
    if "seed_block" not in metafunc.fixturenames:
        return
    only = _only(metafunc.config)
    if only is not None:
        blocks = [(only[1], [only[0]])]
    else:
        blocks = [
            (fam, list(range(first, min(first + BLOCK, runs))))
            for fam, runs in RUNS.items()
            for first in range(0, runs, BLOCK)
        ]
    metafunc.parametrize(
        "seed_block", blocks, ids=[f"{fam}-{seeds[0]}+{len(seeds)}" for fam, seeds in blocks]
    )


def test_seeded_runs(seed_block: tuple[str, list[int]]) -> None:
    family, seeds = seed_block
    for seed in seeds:
        try:
            run_seed(seed, family)
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}\nreplay: pytest tests/sim --sim-seed {seed}:{family}"
            ) from exc


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_replay_is_exact(family: str) -> None:
    """The same seed gives the same history, event for event (moves included)."""
    moves_a: list[object] = []
    moves_b: list[object] = []
    a, b = run_seed(7, family, trace=moves_a.append), run_seed(7, family, trace=moves_b.append)
    assert [h.storage.commit_seq for h in a.hosts.values()] == [
        h.storage.commit_seq for h in b.hosts.values()
    ]
    assert a.acked == b.acked and a.leaders == b.leaders and a.trace == b.trace
    assert moves_a == moves_b and len(moves_a) > 50


def test_tracing_changes_nothing() -> None:
    """A trace hook only observes: the run is the same with and without it."""
    a, b = run_seed(11, "w3"), run_seed(11, "w3", trace=lambda t: None)
    assert [h.storage.commit_seq for h in a.hosts.values()] == [
        h.storage.commit_seq for h in b.hosts.values()
    ]
    assert a.trace == b.trace and a.acked == b.acked


def test_runs_make_progress() -> None:
    """Not vacuous: writes are acknowledged and leaders change under faults."""
    acked = epochs = 0
    for seed in range(40):
        sim = run_seed(seed, 3)
        acked += len(sim.acked)
        epochs += len(sim.leaders)
    assert acked > 40 * 20
    assert epochs > 40


@pytest.mark.parametrize("family", ["bh3", "w3", "emb"])
def test_extended_runs_make_progress(family: str) -> None:
    """Blackholes, watchers and the embedded shape still commit; watchers catch up."""
    acked = watcher_commits = 0
    for seed in range(15):
        sim = run_seed(seed, family)
        acked += len(sim.acked)
        watcher_commits += sum(
            len(h.storage.commit_seq) for n, h in sim.hosts.items() if n.startswith("w")
        )
    assert acked > 15 * 20
    if FAMILIES[family].watchers:
        assert watcher_commits > 15 * 20


def test_checker_catches_gometa_w25(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the ZAB commit-on-establishment fix (gometa's W25 behaviour),
    seed 53 diverges: the invariant checker is not vacuous."""
    from refnode.core import broadcast
    from tests.sim.sim import InvariantError

    def gometa_established(self: broadcast.LeaderRole) -> None:
        if self.ensemble_size == 1 or self.embedded:
            self._become_ready()

    monkeypatch.setattr(broadcast.LeaderRole, "_established", gometa_established)
    with pytest.raises(InvariantError, match="committed logs diverge"):
        run_seed(53, 3)
