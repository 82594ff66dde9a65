"""3- and 5-member reference-node ensembles on loopback (issue 5).

Each ensemble elects (spec §4.9), commits 1,000 writes sent to every member
in turn (spec §9.2: a follower forwards to the leader, §6.7), survives
kill -9 of its leader and then of a follower while writes go on (with 5
members both are down at once), restarts them on their data directories,
and ends with every member holding the same committed log and data, with
every acknowledged write in it (``harness.checker``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.crash import rejoin
from harness.rpcclient import GometaRpcClient, RpcError
from harness.targets import Ensemble, ProcessMember, RefnodeTarget, start_stable_ensemble
from harness.workload import Workload, check_members


def wait_get(member: ProcessMember, key: str, timeout: float = 5.0) -> bytes | None:
    """A Get is a local read (spec §9.2); None once the key is gone."""
    deadline = time.monotonic() + timeout
    with GometaRpcClient(member.config.host.request) as c:
        while True:
            try:
                return c.get(key)
            except RpcError:
                return None
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def loopback_scenario(ens: Ensemble) -> None:
    members = ens.members
    addrs = [m.config.host.request for m in members]
    first = ens.wait_stable()

    # 1,000 writes, spread over every member's RPC port.
    t0 = time.monotonic()
    bulk = Workload(addrs, threads=8, total=1000, prefix="bulk")
    bulk.start()
    bulk.join(timeout=90)
    print(f"{len(members)} members: 1000 writes in {time.monotonic() - t0:.1f}s")
    assert bulk.failures == []
    assert len(bulk.acked) == 1000
    assert {w.via for w in bulk.acked} == set(addrs)
    check_members(members, bulk.acked)

    # A Delete through a follower removes the key everywhere (spec §10.2).
    follower = next(m for m in members if m is not first)
    gone = bulk.acked[0].key
    with GometaRpcClient(follower.config.host.request) as c:
        c.delete(gone)

    # kill -9 the leader, then a follower of the new one, with writes flowing.
    live = Workload(addrs, threads=4, prefix="live", call_timeout=3.0).start()
    try:
        live.wait_acks(50, timeout=20)
        first.kill()
        second = ens.wait_stable(timeout=10)
        assert second is not first
        acks = live.ack_count
        live.wait_acks(acks + 50, timeout=20)
        victim = next(m for m in members if m not in (first, second))
        if len(members) < 5:
            rejoin(ens, first)  # with 3 members a quorum needs it back first
        victim.kill()
        assert ens.wait_stable(timeout=10) is second
        acks = live.ack_count
        live.wait_acks(acks + 50, timeout=20)
        if len(members) >= 5:
            rejoin(ens, first)
        rejoin(ens, victim)
        assert ens.wait_stable(timeout=10) is second
        acks = live.ack_count
        live.wait_acks(acks + 50, timeout=20)
    finally:
        live.stop()

    states = check_members(members, [*bulk.acked[1:], *live.acked], timeout=15)
    for m in members:
        assert gone not in states[m.name]["data_hex"]
        assert wait_get(m, gone) is None
        assert states[m.name]["current_epoch"] == states[second.name]["current_epoch"]


@pytest.mark.parametrize("size", [3, 5])
def test_RefnodeEnsemble_commits_1000_survives_leader_and_follower_kill9(
    tmp_path: Path, size: int
) -> None:
    """Spec §4.9, §6.7, §9.2: elect, commit, fail over, rejoin, agree."""
    ens = start_stable_ensemble(RefnodeTarget(), size, tmp_path)
    try:
        loopback_scenario(ens)
    finally:
        ens.stop()
