"""The reference node as a watcher (spec §5.7, §7): non-voting, forwards writes.

A watcher finds the leader by soliciting votes (election mode) or dials a
given leader (the embedded deployment), syncs with voting=false, receives
every Proposal and Commit, never Accepts, and may forward Requests. These
run against reference ensembles and against the genuine Go node.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.netalloc import allocate_member
from harness.rpcclient import GometaRpcClient
from harness.targets import (
    GoHostTarget,
    MemberConfig,
    ProcessMember,
    RefnodeTarget,
    Role,
    Target,
    start_stable_ensemble,
)


def wait_value(member: ProcessMember, key: str, timeout: float = 10.0) -> bytes:
    """Get is a local read (spec §9.2): poll until the commit reached ``member``."""
    deadline = time.monotonic() + timeout
    while True:
        with GometaRpcClient(member.config.host.request) as client:
            try:
                return client.get(key)
            except Exception:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.05)


def watcher_of(config: MemberConfig, workdir: Path, *extra: str) -> ProcessMember:
    member = RefnodeTarget(extra_args=("--watcher", *extra)).member("w1", config, workdir)
    assert isinstance(member, ProcessMember)
    return member


def exchange_writes(watcher: ProcessMember, leader: ProcessMember) -> None:
    """Writes through the watcher commit on the leader, and the other way round."""
    with GometaRpcClient(watcher.config.host.request) as client:
        client.set("from-watcher", b"w")
    assert wait_value(leader, "from-watcher") == b"w"
    with GometaRpcClient(leader.config.host.request) as client:
        client.set("from-leader", b"l")
    assert wait_value(watcher, "from-leader") == b"l"


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(RefnodeTarget(), id="refnode"),
        pytest.param(GoHostTarget(), id="gometa", marks=pytest.mark.gometa),
    ],
)
def test_watcher_solicits_the_leader_and_follows_it(tmp_path: Path, target: Target) -> None:
    """WA-01/WA-02/WA-03: solicit votes find the leader; sync as non-voter; forward writes."""
    ens = start_stable_ensemble(target, 3, tmp_path / "ens")
    watcher = watcher_of(
        MemberConfig(host=allocate_member(), peers=tuple(m.config.host for m in ens.members)),
        tmp_path / "w1",
    )
    try:
        leader = ens.wait_stable()
        watcher.start()
        watcher.wait_role(Role.WATCHING, timeout=10)
        assert watcher.winner() == leader.config.host.election
        exchange_writes(watcher, leader)
        state = watcher.state()
        assert state["status"] == "WATCHING"
        assert bytes.fromhex(state["data_hex"]["from-leader"]) == b"l"
        assert leader.role() is Role.LEADING, "a watcher never changes the leader"
    finally:
        watcher.stop()
        ens.stop()


@pytest.mark.parametrize(
    "leader_target",
    [
        pytest.param(RefnodeTarget(embedded=True), id="refnode-embedded"),
        pytest.param(GoHostTarget(embedded=True), id="gometa-embedded", marks=pytest.mark.gometa),
    ],
)
def test_watcher_of_an_embedded_leader(tmp_path: Path, leader_target: Target) -> None:
    """Spec §7: the production shape, one always-leading node and watchers over TCP."""
    leader = leader_target.member("e1", MemberConfig(host=allocate_member()), tmp_path / "e1")
    assert isinstance(leader, ProcessMember)
    leader.start()
    watcher = watcher_of(
        MemberConfig(host=allocate_member()),
        tmp_path / "w1",
        "--leader",
        leader.config.host.message,
    )
    try:
        leader.wait_role(Role.LEADING, timeout=10)
        watcher.start()
        watcher.wait_role(Role.WATCHING, timeout=10)
        exchange_writes(watcher, leader)
    finally:
        watcher.stop()
        leader.stop()
