"""A genuine 3-member gometa ensemble through the target adapters (issue 3).

Each start goes through ``start_stable_ensemble``, which records the W41
cold-start race as an observation and starts again instead of flaking.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness import observations
from harness.rpcclient import GometaRpcClient
from harness.targets import (
    Ensemble,
    GoHostTarget,
    ProcessMember,
    Role,
    TargetError,
    start_stable_ensemble,
)
from harness.targets.ensemble import W41_KIND, solicit_winner

pytestmark = pytest.mark.gometa


def wait_value(member: ProcessMember, key: str, timeout: float = 5.0) -> bytes:
    """Get is a local read (spec §9.2): a follower may commit a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with GometaRpcClient(member.config.host.request) as c:
                return c.get(key)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_Ensemble_one_leader_two_followers_on_loopback(go_ensemble: Ensemble) -> None:
    """Spec §4.9: one member LEADING, the others FOLLOWING the same winner."""
    leader = go_ensemble.wait_stable(timeout=5)
    roles = sorted(role.value for m in go_ensemble.members if (role := m.role()) is not None)
    assert roles == ["FOLLOWING", "FOLLOWING", "LEADING"]
    for m in go_ensemble.members:
        assert m.config.host.election.startswith("127.")
        assert m.winner() == leader.config.host.election


def test_Ensemble_solicit_vote_answered_with_same_winner(go_ensemble: Ensemble) -> None:
    """Spec §4.5 rule 1: a solicit to each member's election port names the leader."""
    leader = go_ensemble.wait_stable(timeout=5)
    for m in go_ensemble.members:
        vote = solicit_winner(m.config.host.election, timeout=2.0)
        assert vote is not None, f"{m.name} did not answer a solicit"
        assert vote.cnd_id == leader.config.host.election
        assert vote.status in (1, 2)  # LEADING or FOLLOWING: the replier's own status
        expected = 1 if m is leader else 2
        assert vote.status == expected


def test_Ensemble_rpc_set_on_follower_readable_everywhere(go_ensemble: Ensemble) -> None:
    """Spec §9.2 and §6.7: a Set through a follower's RPC port commits on all."""
    leader = go_ensemble.wait_stable(timeout=5)
    follower = next(m for m in go_ensemble.members if m is not leader)
    with GometaRpcClient(follower.config.host.request) as c:
        c.set("issue3", b"through-a-follower")
    for m in go_ensemble.members:
        assert wait_value(m, "issue3") == b"through-a-follower"
    assert all(
        m.state()["last_committed_txid"] == leader.state()["last_committed_txid"]
        for m in go_ensemble.members
    )


def kill_leader_scenario(ens: Ensemble) -> None:
    old = ens.wait_stable()
    old_epoch = old.state()["current_epoch"]
    follower = next(m for m in ens.members if m is not old)
    with GometaRpcClient(follower.config.host.request) as c:
        c.set("before-kill", b"v1")
    wait_value(old, "before-kill")
    t0 = time.monotonic()
    old.kill()
    new = ens.wait_stable(timeout=10)
    elapsed = time.monotonic() - t0
    assert new is not old
    assert new.role() is Role.LEADING
    # The epoch rises when discovery reaches a quorum, just after the roles.
    new.wait_event(
        lambda ev: ev.get("event") == "current_epoch" and ev["epoch"] > old_epoch, timeout=5
    )
    assert new.state()["current_epoch"] > old_epoch
    assert elapsed < 10
    # kill -9 kept the journal: the old leader comes back with its data.
    old.restart()
    old.wait_role(Role.FOLLOWING, timeout=10)
    st = old.state()
    assert st["accepted_epoch"] >= old_epoch
    assert bytes.fromhex(st["data_hex"]["before-kill"]) == b"v1"


def test_Ensemble_leader_kill9_reelects_with_higher_epoch(
    tmp_path: Path, gohost_binary: Path
) -> None:
    """Spec §4.8-4.9: survivors elect a new leader whose epoch is higher; the
    killed member restarts on its data and rejoins with its state kept.

    W41 can also strike the re-election (the new leader then ignores the
    restarted member's votes); that is recorded and the scenario rerun.
    """
    for attempt in range(1, 4):
        ens = start_stable_ensemble(GoHostTarget(), 3, tmp_path / f"try{attempt}")
        try:
            kill_leader_scenario(ens)
            return
        except TargetError as exc:
            if not ens.w41_signs():
                raise
            observations.record(
                W41_KIND, "go", phase="re-election", attempt=attempt, problem=str(exc)
            )
        finally:
            ens.stop()
    pytest.fail("W41 struck every re-election attempt")
