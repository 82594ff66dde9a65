"""Targeted TCP-blackhole runs: only timeouts notice (spec §1.2, W37).

gometa has no heartbeat: a follower learns that its leader vanished only
from TCP keepalive on the connection it dialled, and a leader learns that a
follower vanished only when a write to it times out or its listener
keepalive fires. These runs pin that down in the simulator (whose timeouts
are scaled: dialled keepalive 2 s, accepted keepalive 3 s, retransmission
1.5 s), and check the usual invariants (``Simulator.check``) after each.
"""

from __future__ import annotations

from functools import partial

from refnode.core.node import Role
from refnode.core.trace import Transition
from tests.sim.sim import Simulator


def _started(sim: Simulator, until: float = 1.0) -> str:
    for name in sim.hosts:
        sim.at(0.0, partial(sim.start, name))
    sim.run_until(until)
    leaders = [n for n, h in sim.hosts.items() if h.node and h.node.role is Role.LEADING]
    assert len(leaders) == 1, leaders
    return leaders[0]


def _write(sim: Simulator, name: str, n: int, start: float, every: float = 0.05) -> None:
    for i in range(n):
        sim.at(start + i * every, partial(sim.client_set, name, f"k{i}", f"v{i}".encode()))


def _check(sim: Simulator) -> None:
    """Make what is pending durable (as ``run_seed`` does at the end), then check."""
    for h in sim.hosts.values():
        if h.node is not None:
            h.storage.flush(sim, h.name)
    sim.check()


def _role(sim: Simulator, name: str) -> Role | None:
    node = sim.hosts[name].node
    return node.role if node is not None else None


def test_blackholed_leader_is_noticed_only_by_timeouts() -> None:
    sim = Simulator(1, 3, drop=0.0, dup=0.0)
    old = _started(sim)
    followers = [n for n in sim.hosts if n != old]
    epoch = max(sim.leaders)
    sim.blackhole_isolate(old)
    sim.run_until(sim.now + 1.9)
    # No reset, no heartbeat: before the keepalive nobody knows (W37).
    assert _role(sim, old) is Role.LEADING
    assert all(_role(sim, f) is Role.FOLLOWING for f in followers)
    sim.run_until(sim.now + 1.0)
    # The followers' keepalive fired; they elected one of themselves.
    new_epochs = {e: n for e, n in sim.leaders.items() if e > epoch}
    assert new_epochs and set(new_epochs.values()) <= set(followers)
    sim.run_until(sim.now + 1.0)
    # The old leader's listener keepalive dropped its followers: lost quorum.
    assert _role(sim, old) is not Role.LEADING
    sim.recover()
    _write(sim, old, 5, sim.now + 1.0)
    sim.run_until(sim.now + 3.0)
    _check(sim)
    assert len(sim.acked) == 5
    assert len({tuple(h.storage.commit_seq) for h in sim.hosts.values()}) == 1


def test_short_blackhole_stalls_then_delivers_in_order() -> None:
    """Shorter than every timeout: the connection survives, nothing is lost."""
    moves: list[Transition] = []
    sim = Simulator(2, 3, drop=0.0, dup=0.0, trace=moves.append)
    leader = _started(sim)
    follower = next(n for n in sim.hosts if n != leader)
    moves.clear()
    sim.blackhole(leader, follower)
    _write(sim, leader, 10, sim.now, every=0.04)
    sim.run_until(sim.now + 1.0)
    sim.recover()
    sim.run_until(sim.now + 1.0)
    assert not [t for t in moves if t.machine == "node"], "no run ended"
    _check(sim)
    assert len(sim.acked) == 10
    assert len(sim.hosts[follower].storage.commit_seq) == 10


def test_write_into_blackhole_times_out_the_sender() -> None:
    """A leader writing to a blackholed follower gives up after the RTO; the
    follower (reading only) needs its keepalive; the other follower keeps
    the quorum, so the leader stays."""
    sim = Simulator(3, 3, drop=0.0, dup=0.0)
    leader = _started(sim)
    lost, kept = (n for n in sim.hosts if n != leader)
    sim.blackhole(leader, lost)
    _write(sim, leader, 20, sim.now, every=0.1)
    sim.run_until(sim.now + 1.7)
    h = sim.hosts[leader].node
    assert h is not None and h.leader is not None
    assert sorted(fid for fid, _k in h.leader.peers.values()) == [
        sim.hosts[kept].config.host.message_addr
    ]
    assert _role(sim, lost) is Role.FOLLOWING  # not told yet
    sim.run_until(sim.now + 0.5)
    assert _role(sim, lost) is not Role.FOLLOWING  # its keepalive fired
    sim.recover()
    sim.run_until(sim.now + 4.0)
    _check(sim)
    assert len(sim.acked) == 20
    assert sim.hosts[lost].storage.commit_seq == sim.hosts[leader].storage.commit_seq


def test_powered_off_leader_is_replaced_and_rejoins() -> None:
    sim = Simulator(4, 3, drop=0.0, dup=0.0)
    old = _started(sim)
    sim.poweroff(old)
    sim.run_until(sim.now + 3.0)
    others = [n for n in sim.hosts if n != old]
    assert any(_role(sim, n) is Role.LEADING for n in others)
    sim.start(old)
    _write(sim, others[0], 5, sim.now + 1.0)
    sim.run_until(sim.now + 4.0)
    _check(sim)
    assert len(sim.acked) == 5
    assert len({tuple(h.storage.commit_seq) for h in sim.hosts.values()}) == 1


def test_embedded_watcher_behind_a_blackhole_resyncs() -> None:
    sim = Simulator(5, 1, drop=0.0, dup=0.0, watchers=2, embedded=True)
    _started(sim)
    sim.blackhole("n1", "w1")
    _write(sim, "n1", 10, sim.now, every=0.1)
    sim.run_until(sim.now + 2.5)
    assert _role(sim, "w1") is not Role.WATCHING  # keepalive, then retry backoff
    assert _role(sim, "w2") is Role.WATCHING
    sim.recover()
    sim.run_until(sim.now + 5.0)
    _check(sim)
    assert _role(sim, "w1") is Role.WATCHING
    seqs = {n: h.storage.commit_seq for n, h in sim.hosts.items()}
    assert len(seqs["n1"]) == 10 and seqs["w1"] == seqs["n1"] == seqs["w2"]
