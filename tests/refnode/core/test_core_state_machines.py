"""Hypothesis over every (state, input) pair of every table (style §10, h2
``test_state_machines.py``).

For each table the machine is built and put into each of its states by a
minimal prefix of well-formed steps (a *builder*); then one input of each
kind is fed with arbitrary field values. Whatever the values:

* nothing but a :class:`ProtocolError` subclass escapes;
* a pair in the table leads where the table says (its traced move is
  ``(state, input) -> table[state, input]``), or, when the values are
  invalid, to the documented failure (the connection closed, FAILED);
* a pair missing from the table has its documented outcome, stated per
  table below (a failure move, a LocalProtocolError with nothing changed, or
  an input that cannot occur in that state);
* every traced move is a move of its table (or its failure move).

``SM_EXAMPLES=300`` runs more examples per pair (25 by default).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wire
from refnode.core import effects as fx
from refnode.core.broadcast import (
    BROADCAST_INPUT,
    FOLLOWER_TRANSITIONS,
    LEADER_TRANSITIONS,
    BroadcastInput,
    FollowerPhase,
    FollowerRole,
    LeaderRole,
    PeerKind,
)
from refnode.core.config import Limits, Mode, NodeConfig, PeerAddr
from refnode.core.context import Context
from refnode.core.discovery import (
    FOLLOWER_SYNC_TRANSITIONS,
    LEADER_SYNC_TRANSITIONS,
    FollowerSync,
    FollowerSyncInput,
    FollowerSyncState,
    LeaderDiscovery,
    LeaderSyncInput,
    LeaderSyncState,
)
from refnode.core.election import TRANSITIONS, ElectionInput, ElectionSite, ElectionState
from refnode.core.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from refnode.core.inputs import (
    BytesReceived,
    ClientRequest,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionEstablished,
    DatagramReceived,
    FrameReceived,
    Stop,
    VoteReceived,
)
from refnode.core.node import NODE_TRANSITIONS, Node, Role
from refnode.core.quorum import majority
from refnode.core.store import PersistentState
from refnode.core.tables import TABLES
from refnode.core.trace import Tracer, Transition
from tests.refnode.core.test_core_hypothesis import messages, u32, u64

SETTINGS = settings(
    max_examples=int(os.environ.get("SM_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

MEMBERS = [
    PeerAddr(election_addr=f"10.0.0.{i}:5000", message_addr=f"10.0.0.{i}:6000") for i in (1, 2, 3)
]
E1, E2, E3 = (m.election_addr for m in MEMBERS)
F1, F2, F3 = (m.message_addr for m in MEMBERS)
OUTSIDER = "10.9.9.9:5000"
CONFIG = NodeConfig(host=MEMBERS[0], peers=tuple(MEMBERS[1:]))
fids = st.sampled_from([F1, F2, F3, "w1", "", OUTSIDER])
srcs = st.sampled_from([E1, E2, E3, OUTSIDER])


@dataclass
class Harness:
    ctx: Context
    moves: list[Transition] = field(default_factory=list)

    def reset(self) -> None:
        self.moves.clear()
        self.ctx.out.clear()


def harness(config: NodeConfig = CONFIG, state: PersistentState | None = None) -> Harness:
    ctx = Context(config, state or PersistentState(), random.Random(0), config.host.election_addr)
    h = Harness(ctx=ctx)
    ctx.trace.hook = h.moves.append
    return h


def assert_moves_allowed(moves: list[Transition]) -> None:
    for t in moves:
        assert TABLES[t.machine].allows(t), t


def closed(h: Harness, conn: int) -> bool:
    return any(isinstance(e, fx.CloseConnection) and e.conn == conn for e in h.ctx.out)


# ---------------------------------------------------------------------------
# Election: ElectionSite


ES, EI = ElectionState, ElectionInput


def election_in(state: ElectionState) -> tuple[ElectionSite, Harness, float]:
    h = harness()
    site = ElectionSite(
        me=E1,
        peers=(E1, E2, E3),
        start_round=0,
        solicit_only=False,
        has_quorum=lambda n: majority(n, 3),
        current_vote=lambda: (0, 0, 0),
        status=lambda: 0,
        emit=h.ctx.out.append,
        trace=Tracer(h.moves.append),
    )
    now = 0.0
    if state is not ES.IDLE:
        site.start(now)
    if state in (ES.FINALIZING, ES.DECIDED):
        agree = wire.Vote(
            round=site.round,
            status=0,
            epoch=0,
            cnd_id=E1,
            cnd_logged_txn_id=0,
            cnd_committed_txn_id=0,
            solicit=False,
        )
        site.receive(E2, agree, now)
    if state is ES.DECIDED:
        assert site.finalize_at is not None
        now = site.finalize_at
        site.handle_timer(now)
    assert site.state is state
    h.reset()
    return site, h, now


def votes(solicit: bool) -> st.SearchStrategy[wire.Vote]:
    return st.builds(
        wire.Vote,
        round=st.integers(0, 4),
        status=st.integers(0, 5),
        epoch=st.integers(0, 3),
        cnd_id=srcs,
        cnd_logged_txn_id=u64,
        cnd_committed_txn_id=u64,
        solicit=st.just(solicit),
    )


@pytest.mark.parametrize("inp", list(ElectionInput), ids=lambda i: i.value)
@pytest.mark.parametrize("state", list(ElectionState), ids=lambda s: s.value)
@SETTINGS
@given(data=st.data())
def test_ElectionSite_every_state_input_pair(
    state: ElectionState, inp: ElectionInput, data: st.DataObject
) -> None:
    """Missing pairs: SEND_START outside IDLE and any vote in IDLE are the
    caller's error (LocalProtocolError, nothing changes); a TIMEOUT_* whose
    timer is not armed cannot fire, and handle_timer then does nothing."""
    site, h, now = election_in(state)
    allowed = TRANSITIONS.get((state, inp))
    later = now + data.draw(st.floats(0, 2), label="dt")
    try:
        if inp is EI.SEND_START:
            site.start(later)
        elif inp in (EI.RECV_VOTE, EI.RECV_SOLICIT):
            vote = data.draw(votes(inp is EI.RECV_SOLICIT), label="vote")
            site.receive(data.draw(srcs, label="src"), vote, later)
        elif inp is EI.TIMEOUT_RETRY:
            if site.retry_at is None:
                assert allowed is None
                site.handle_timer(later)
            else:
                assert site.finalize_at is None or site.finalize_at > site.retry_at
                site.handle_timer(site.retry_at)
        else:
            if site.finalize_at is None:
                assert allowed is None
                if site.retry_at is not None:
                    return  # the retry timer would fire instead: not this pair
                site.handle_timer(later)
            else:
                site.handle_timer(site.finalize_at)
    except LocalProtocolError:
        assert allowed is None and site.state is state
        assert h.moves == [] and h.ctx.out == []
        return
    assert_moves_allowed(h.moves)
    if allowed is None:
        assert site.state is state and h.moves == [] and h.ctx.out == []
        return
    assert site.state in allowed
    if h.moves:
        assert (h.moves[0].from_state, h.moves[0].input) == (state.value, inp.value)


# ---------------------------------------------------------------------------
# Leader side of discovery: LeaderDiscovery, subject connection 1 (a watcher,
# so it never forms a quorum itself), voter connection 2 (member #2).


LS, LI = LeaderSyncState, LeaderSyncInput
SUBJECT, VOTER = 1, 2
_S_FI = (SUBJECT, wire.FollowerInfo(accepted_epoch=0, fid="w1", voting=False))
_V_FI = (VOTER, wire.FollowerInfo(accepted_epoch=0, fid=F2, voting=True))
_S_EA = (SUBJECT, wire.EpochAck(last_logged_txid=0, current_epoch=0))
_V_EA = (VOTER, wire.EpochAck(last_logged_txid=0, current_epoch=0))
_S_NLA = (SUBJECT, wire.NewLeaderAck())
_V_NLA = (VOTER, wire.NewLeaderAck())
LEADER_PREFIX: dict[LeaderSyncState, list[tuple[int, Any]]] = {
    LS.WAIT_FOLLOWER_INFO: [],
    LS.WAIT_EPOCH_QUORUM: [_S_FI],
    LS.WAIT_EPOCH_ACK: [_S_FI, _V_FI],
    LS.WAIT_ACK_QUORUM: [_S_FI, _V_FI, _S_EA],
    LS.WAIT_NEW_LEADER_ACK: [_S_FI, _V_FI, _S_EA, _V_EA],
    LS.WAIT_NEW_LEADER_QUORUM: [_S_FI, _V_FI, _S_EA, _V_EA, _S_NLA],
    LS.SYNCED: [_S_FI, _V_FI, _S_EA, _V_EA, _S_NLA, _V_NLA],
    LS.FAILED: [],
}
QUORUMS = (LI.QUORUM_EPOCH, LI.QUORUM_ACK, LI.QUORUM_NEW_LEADER)
_LEADER_MSG: dict[LeaderSyncInput, st.SearchStrategy[Any]] = {
    LI.RECV_FOLLOWER_INFO: st.builds(
        wire.FollowerInfo,
        accepted_epoch=st.one_of(st.integers(0, 4), u32),
        fid=fids,
        voting=st.booleans(),
    ),
    LI.RECV_EPOCH_ACK: st.builds(wire.EpochAck, last_logged_txid=u64, current_epoch=u32),
    LI.RECV_NEW_LEADER_ACK: st.just(wire.NewLeaderAck()),
    LI.RECV_OTHER: messages.filter(
        lambda m: not isinstance(m, wire.FollowerInfo | wire.EpochAck | wire.NewLeaderAck)
    ),
}


def leader_sync_in(state: LeaderSyncState) -> tuple[LeaderDiscovery, Harness, list[Any]]:
    h = harness()
    synced: list[Any] = []
    disc = LeaderDiscovery(
        h.ctx,
        quorum=lambda n: majority(n, 3),
        member_fids=CONFIG.member_fids(),
        on_established=lambda: None,
        on_synced=synced.append,
        on_epoch=lambda e: None,
        last_committed=lambda: 0,
        embedded=False,
    )
    disc.start()
    disc.add(SUBJECT, 0.0)
    disc.add(VOTER, 0.0)
    for conn, msg in LEADER_PREFIX[state]:
        disc.receive(conn, msg)
    if state is LS.FAILED:
        disc.fail(SUBJECT, "test")
    sub = disc.syncs.get(SUBJECT)
    assert (sub.state if sub else (LS.SYNCED if synced else LS.FAILED)) is state
    h.reset()
    return disc, h, synced


def _formed(disc: LeaderDiscovery, q: LeaderSyncInput) -> bool:
    return {
        LI.QUORUM_EPOCH: disc.epoch_persisted,
        LI.QUORUM_ACK: disc.current_set,
        LI.QUORUM_NEW_LEADER: disc.established,
    }[q]


@pytest.mark.parametrize("inp", list(LeaderSyncInput), ids=lambda i: i.value)
@pytest.mark.parametrize("state", list(LeaderSyncState), ids=lambda s: s.value)
@SETTINGS
@given(data=st.data())
def test_LeaderDiscovery_every_state_input_pair(
    state: LeaderSyncState, inp: LeaderSyncInput, data: st.DataObject
) -> None:
    """Missing RECV_* pairs fail the sync (unexpected-message: FAILED, closed,
    its votes withdrawn). A QUORUM_* moves exactly the syncs the table says
    and no other; one that already formed cannot form again. SYNCED and FAILED
    are terminal: the connection has left discovery."""
    disc, h, _synced = leader_sync_in(state)
    if state in (LS.SYNCED, LS.FAILED):
        assert SUBJECT not in disc.syncs
        assert not any(s is state for (s, _i) in LEADER_SYNC_TRANSITIONS)
        return
    if inp in QUORUMS:
        if _formed(disc, inp):
            assert (state, inp) not in LEADER_SYNC_TRANSITIONS
            return
        expect: LeaderSyncState = state
        voter_steps = [s for s in (_V_FI, _V_EA, _V_NLA) if s not in LEADER_PREFIX[state]]
        for q in QUORUMS:
            if not _formed(disc, q):
                disc.receive(*voter_steps.pop(0))
                assert _formed(disc, q)
                expect = LEADER_SYNC_TRANSITIONS.get((expect, q), expect)
            if q is inp:
                break
        sub = disc.syncs.get(SUBJECT)
        got = sub.state if sub is not None else LS.SYNCED
        assert got is expect
        assert_moves_allowed(h.moves)
        return
    msg = data.draw(_LEADER_MSG[inp], label="msg")
    allowed = LEADER_SYNC_TRANSITIONS.get((state, inp))
    try:
        disc.receive(SUBJECT, msg)
    except RemoteProtocolError as exc:
        assert SUBJECT not in disc.syncs and closed(h, SUBJECT)
        assert h.moves[-1].to_state == LS.FAILED.value and h.moves[-1].conn == SUBJECT
        if allowed is None:
            assert exc.reason == "unexpected-message"
            assert len(h.moves) == 1 and h.moves[0].from_state == state.value
        assert_moves_allowed(h.moves)
        return
    assert allowed is not None, f"{state} x {inp} was accepted"
    mine = [t for t in h.moves if t.conn == SUBJECT]
    assert (mine[0].from_state, mine[0].input, mine[0].to_state) == (
        state.value,
        inp.value,
        allowed.value,
    )
    assert_moves_allowed(h.moves)


# ---------------------------------------------------------------------------
# Follower side of discovery: FollowerSync


FS, FI = FollowerSyncState, FollowerSyncInput
_BEGIN = wire.LogEntry(txnid=0, op_code=5, key="StreamBegin", content=b"StreamBegin")
_END = wire.LogEntry(txnid=0, op_code=6, key="StreamEnd", content=b"StreamEnd")
FOLLOWER_PREFIX: dict[FollowerSyncState, list[Any]] = {
    FS.CONNECTING: [],
    FS.WAIT_LEADER_INFO: ["connected"],
    FS.RECEIVING_STREAM: ["connected", wire.LeaderInfo(accepted_epoch=1)],
    FS.WAIT_NEW_LEADER: ["connected", wire.LeaderInfo(accepted_epoch=1), _BEGIN, _END],
    FS.DONE: [
        "connected",
        wire.LeaderInfo(accepted_epoch=1),
        _BEGIN,
        _END,
        wire.NewLeader(current_epoch=1),
    ],
    FS.FAILED: ["connected", wire.Commit(txnid=1)],
}
_log_entries = st.builds(
    wire.LogEntry,
    txnid=u64,
    op_code=st.integers(0, 60).filter(lambda o: o != 6),
    key=st.text(max_size=3),
    content=st.binary(max_size=3),
)
_FOLLOWER_MSG: dict[FollowerSyncInput, st.SearchStrategy[Any]] = {
    FI.RECV_LEADER_INFO: st.builds(
        wire.LeaderInfo, accepted_epoch=st.one_of(st.integers(0, 4), u32)
    ),
    FI.RECV_LOG_ENTRY: _log_entries,
    FI.RECV_STREAM_END: st.builds(
        wire.LogEntry,
        txnid=u64,
        op_code=st.just(6),
        key=st.text(max_size=3),
        content=st.binary(max_size=3),
    ),
    FI.RECV_NEW_LEADER: st.builds(wire.NewLeader, current_epoch=st.one_of(st.integers(0, 4), u32)),
    FI.RECV_OTHER: messages.filter(
        lambda m: not isinstance(m, wire.LeaderInfo | wire.LogEntry | wire.NewLeader)
    ),
}


def follower_sync_in(
    state: FollowerSyncState, st_: PersistentState
) -> tuple[FollowerSync, Harness]:
    h = harness(state=st_)
    fs = FollowerSync(h.ctx, conn=-1, leader_id=E2, voting=True, deadline=300.0)
    for step in FOLLOWER_PREFIX[state]:
        if step == "connected":
            fs.connected()
        else:
            try:
                fs.receive(step)
            except RemoteProtocolError:
                assert state is FS.FAILED
    assert fs.state is state
    h.reset()
    return fs, h


@pytest.mark.parametrize("inp", list(FollowerSyncInput), ids=lambda i: i.value)
@pytest.mark.parametrize("state", list(FollowerSyncState), ids=lambda s: s.value)
@SETTINGS
@given(data=st.data())
def test_FollowerSync_every_state_input_pair(
    state: FollowerSyncState, inp: FollowerSyncInput, data: st.DataObject
) -> None:
    """Missing pairs fail the sync (unexpected-message, FAILED), except a
    second RECV_CONNECTED: the driver's error (LocalProtocolError, no move).
    Invalid values in a table pair (an old or foreign epoch, a NewLeader epoch
    that is not LeaderInfo's, a stream too long) fail it too. Epochs never go back."""
    start = PersistentState(
        accepted_epoch=data.draw(st.integers(0, 2), label="ae"),
        accepted_leader=data.draw(st.sampled_from(["", E2, E3]), label="leader"),
    )
    if state not in (FS.CONNECTING, FS.WAIT_LEADER_INFO) and (
        start.accepted_epoch > 1 or start.accepted_leader not in ("", E2)
    ):
        start = PersistentState()  # the prefix's LeaderInfo(1) must be acceptable
    fs, h = follower_sync_in(state, start)
    ae, ce = h.ctx.state.accepted_epoch, h.ctx.state.current_epoch
    allowed = FOLLOWER_SYNC_TRANSITIONS.get((state, inp))
    try:
        if inp is FI.RECV_CONNECTED:
            fs.connected()
        else:
            fs.receive(data.draw(_FOLLOWER_MSG[inp], label="msg"))
    except LocalProtocolError:
        assert inp is FI.RECV_CONNECTED and allowed is None
        assert fs.state is state and h.moves == []
        return
    except RemoteProtocolError as exc:
        assert fs.state is FS.FAILED
        if state is not FS.FAILED:
            assert h.moves[-1].to_state == FS.FAILED.value and h.moves[-1].input == exc.reason
        if allowed is None:
            assert exc.reason == "unexpected-message"
    else:
        assert allowed is not None and fs.state is allowed
        assert [(t.from_state, t.input, t.to_state) for t in h.moves] == [
            (state.value, inp.value, allowed.value)
        ]
    assert_moves_allowed(h.moves)
    s = h.ctx.state
    assert s.accepted_epoch >= ae and s.current_epoch >= ce


# ---------------------------------------------------------------------------
# Broadcast, leader: LeaderRole with a synced follower (conn 1, #2) and a
# synced watcher (conn 2), and a few proposals in flight.


BI = BroadcastInput
_BCAST_MSG: dict[BroadcastInput, st.SearchStrategy[Any]] = {
    BI.RECV_REQUEST: st.builds(
        wire.Request,
        req_id=u64,
        op_code=st.integers(0, 60),
        key=st.text(max_size=3),
        content=st.binary(max_size=3),
    ),
    BI.RECV_ACCEPT: st.builds(
        wire.Accept,
        txnid=st.one_of(u64, st.builds(lambda c: (1 << 32) | c, st.integers(0, 4))),
        fid=fids,
    ),
    BI.RECV_PROPOSAL: st.builds(
        wire.Proposal,
        txnid=st.one_of(u64, st.builds(lambda c: (1 << 32) | c, st.integers(0, 6))),
        fid=fids,
        req_id=u64,
        op_code=st.integers(0, 60),
        key=st.text(max_size=3),
        content=st.binary(max_size=3),
    ),
    BI.RECV_COMMIT: st.builds(
        wire.Commit, txnid=st.one_of(u64, st.builds(lambda c: (1 << 32) | c, st.integers(0, 6)))
    ),
    BI.RECV_ABORT: st.builds(wire.Abort, req_id=u64, fid=fids, error=st.text(max_size=3)),
    BI.RECV_RESPONSE: st.builds(wire.Response, req_id=u64, fid=fids, error=st.text(max_size=3)),
    BI.RECV_OTHER: messages.filter(lambda m: type(m) not in BROADCAST_INPUT),
}
PEER_CONN = {PeerKind.FOLLOWER: 1, PeerKind.WATCHER: 2}


def leader_role(pending: int, limit: int) -> tuple[LeaderRole, Harness]:
    h = harness(
        NodeConfig(
            host=MEMBERS[0],
            peers=tuple(MEMBERS[1:]),
            limits=Limits(max_outstanding_proposals=limit),
        )
    )
    role = LeaderRole(
        h.ctx,
        ensemble_size=3,
        quorum=lambda n: majority(n, 3),
        member_fids=CONFIG.member_fids(),
        embedded=False,
        now=0.0,
        on_epoch=lambda e: None,
    )
    role.start()
    role.accept_connection(1, 0.0)
    role.accept_connection(2, 0.0)
    for conn, fid, voting in ((1, F2, True), (2, "w1", False)):
        role.receive(conn, wire.FollowerInfo(accepted_epoch=0, fid=fid, voting=voting))
    for conn in (1, 2):
        role.receive(conn, wire.EpochAck(last_logged_txid=0, current_epoch=0))
    for conn in (1, 2):
        role.receive(conn, wire.NewLeaderAck())
    assert role.peers == {1: (F2, PeerKind.FOLLOWER), 2: ("w1", PeerKind.WATCHER)}
    for i in range(pending):
        role.client_request(i, 2, f"k{i}", b"v")
    h.reset()
    return role, h


@pytest.mark.parametrize("inp", list(BroadcastInput), ids=lambda i: i.value)
@pytest.mark.parametrize("kind", list(PeerKind), ids=lambda k: k.value)
@SETTINGS
@given(data=st.data())
def test_LeaderRole_every_peer_kind_input_pair(
    kind: PeerKind, inp: BroadcastInput, data: st.DataObject
) -> None:
    """The table is total. Only an Accept whose body fid is not the
    connection's raises (accept-fid-mismatch: that peer is dropped). Commits
    stay in txid order and in-flight proposals never exceed the limit."""
    limit = data.draw(st.sampled_from([1, 2, 10_000]), label="limit")
    role, h = leader_role(data.draw(st.integers(0, 3), label="pending"), limit)
    conn = PEER_CONN[kind]
    action = LEADER_TRANSITIONS[(kind, inp)]
    last = role.last_committed
    try:
        role.receive(conn, data.draw(_BCAST_MSG[inp], label="msg"))
    except RemoteProtocolError as exc:
        assert exc.reason == "accept-fid-mismatch" and action == "accept"
        assert conn not in role.peers and closed(h, conn)
    else:
        assert role.peers[conn] == (role.peers[conn][0], kind)
    assert (h.moves[0].from_state, h.moves[0].input, h.moves[0].to_state) == (
        kind.value,
        inp.value,
        kind.value,
    )
    assert h.moves[0].action == action
    assert_moves_allowed(h.moves)
    commits = [e.txid for e in h.ctx.out if isinstance(e, fx.PersistCommit)]
    assert commits == sorted(commits) and all(t > last for t in commits)
    assert len(role.pending) <= limit


# ---------------------------------------------------------------------------
# Broadcast, follower: FollowerRole after its sync (BROADCAST), or during it.


def follower_role(
    phase: FollowerPhase, voting: bool, proposals: int
) -> tuple[FollowerRole, Harness]:
    h = harness()
    role = FollowerRole(
        h.ctx, conn=-1, leader_id=E2, voting=voting, now=0.0, on_epoch=lambda e: None
    )
    role.connected()
    if phase is FollowerPhase.BROADCAST:
        for msg in (
            wire.LeaderInfo(accepted_epoch=1),
            _BEGIN,
            _END,
            wire.NewLeader(current_epoch=1),
        ):
            role.receive(msg)
        for c in range(1, proposals + 1):
            role.receive(
                wire.Proposal(
                    txnid=(1 << 32) | c, fid=F2, req_id=c, op_code=2, key="k", content=b"v"
                )
            )
    assert role.phase is phase
    h.reset()
    return role, h


@pytest.mark.parametrize("inp", list(BroadcastInput), ids=lambda i: i.value)
@pytest.mark.parametrize("phase", list(FollowerPhase), ids=lambda p: p.value)
@SETTINGS
@given(data=st.data())
def test_FollowerRole_every_phase_input_pair(
    phase: FollowerPhase, inp: BroadcastInput, data: st.DataObject
) -> None:
    """BROADCAST: the table is total; only an out-of-order Proposal or Commit
    raises (the run then ends). SYNCING has no pairs: follower_sync decides,
    so every move is a follower_sync move. Commits never go back (W31)."""
    role, h = follower_role(
        phase, data.draw(st.booleans(), label="voting"), data.draw(st.integers(0, 3), label="n")
    )
    committed = h.ctx.state.last_committed_txid
    try:
        role.receive(data.draw(_BCAST_MSG[inp], label="msg"))
    except RemoteProtocolError as exc:
        if phase is FollowerPhase.BROADCAST:
            assert exc.reason in ("proposal-out-of-order", "commit-out-of-order")
    assert_moves_allowed(h.moves)
    if phase is FollowerPhase.SYNCING:
        assert (phase, inp) not in FOLLOWER_TRANSITIONS
        assert all(t.machine == "follower_sync" for t in h.moves)
    else:
        first = h.moves[0]
        assert (first.from_state, first.input, first.to_state, first.action) == (
            phase.value,
            inp.value,
            phase.value,
            FOLLOWER_TRANSITIONS[(phase, inp)],
        )
        if not role.voting:
            assert not any(
                isinstance(e, fx.SendMessage) and isinstance(e.msg, wire.Accept) for e in h.ctx.out
            )
    assert h.ctx.state.last_committed_txid >= committed


# ---------------------------------------------------------------------------
# Node: every role x every kind of input


WATCHER_CFG = NodeConfig(
    host=PeerAddr(election_addr="10.0.1.1:5000", message_addr="10.0.1.1:6000"),
    mode=Mode.WATCHER,
    leader_message_addr=F1,
)


def _node(config: NodeConfig, moves: list[Transition]) -> Node:
    return Node(config, PersistentState(), random.Random(0), 0.0, trace=moves.append)


def _elect(node: Node, winner: str) -> None:
    for src in (E2, E3):
        node.step(
            VoteReceived(
                src=src,
                vote=wire.Vote(
                    round=1,
                    status=0,
                    epoch=0,
                    cnd_id=winner,
                    cnd_logged_txn_id=0,
                    cnd_committed_txn_id=0,
                    solicit=False,
                ),
            ),
            0.0,
        )
    node.handle_timer(0.25)


def _elected(node: Node, winner: Any) -> Node:
    """``node`` after winning (or losing) an election to ``winner``."""
    _elect(node, winner)
    return node


def _stepped(node: Node, inp: Any) -> Node:
    """``node`` after one input at time 0."""
    node.step(inp, 0.0)
    return node


NODE_BUILDERS: dict[Role, list[Callable[[list[Transition]], Node]]] = {
    Role.ELECTING: [lambda m: _node(CONFIG, m)],
    Role.LEADING: [
        lambda m: _node(NodeConfig(host=MEMBERS[0], mode=Mode.EMBEDDED), m),
        lambda m: _node(NodeConfig(host=MEMBERS[0]), m),
        lambda m: _elected(_node(CONFIG, m), E1),
    ],
    Role.FOLLOWING: [lambda m: _elected(_node(CONFIG, m), E2)],
    Role.WATCHING: [lambda m: _node(WATCHER_CFG, m)],
    Role.PAUSED: [lambda m: _stepped(_node(WATCHER_CFG, m), ConnectionClosed(conn=-1))],
    Role.STOPPED: [lambda m: _stepped(_node(CONFIG, m), Stop())],
}
conns = st.integers(-2, 3)
NODE_INPUTS: dict[str, st.SearchStrategy[Any]] = {
    "VoteReceived": st.builds(VoteReceived, src=srcs, vote=messages),
    "DatagramReceived": st.builds(DatagramReceived, src=srcs, data=st.binary(max_size=64)),
    "ConnectionAccepted": st.builds(ConnectionAccepted, conn=st.integers(0, 3), peer=st.just("p")),
    "ConnectionEstablished": st.builds(ConnectionEstablished, conn=conns),
    "FrameReceived": st.builds(FrameReceived, conn=conns, msg=messages),
    "BytesReceived": st.builds(BytesReceived, conn=conns, data=st.binary(max_size=40)),
    "ConnectionClosed": st.builds(ConnectionClosed, conn=conns),
    "ClientRequest": st.builds(
        ClientRequest,
        request_id=st.integers(0, 8),
        op_code=st.integers(0, 60),
        key=st.text(max_size=2),
        value=st.binary(max_size=2),
    ),
    "Stop": st.just(Stop()),
    "TIMER": st.floats(0.0, 400.0),
}


@pytest.mark.parametrize("inp", list(NODE_INPUTS))
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@SETTINGS
@given(data=st.data())
def test_Node_every_role_input_pair(role: Role, inp: str, data: st.DataObject) -> None:
    """Role moves chain along NODE_TRANSITIONS from the role the node was in
    (one input may end a run and start the next); a STOPPED node moves no more."""
    moves: list[Transition] = []
    node = data.draw(st.sampled_from(NODE_BUILDERS[role]), label="builder")(moves)
    assert node.role is role
    node.drain()
    moves.clear()
    value = data.draw(NODE_INPUTS[inp], label="input")
    try:
        if inp == "TIMER":
            node.handle_timer(value)
        else:
            node.step(value, 0.0)
    except ProtocolError:
        pass
    assert_moves_allowed(moves)
    path = [t for t in moves if t.machine == "node"]
    cur = role.value
    for t in path:
        assert t.from_state == cur and Role(t.to_state) in NODE_TRANSITIONS[Role(cur)]
        cur = t.to_state
    assert node.role.value == cur
    if role is Role.STOPPED:
        assert moves == []
