"""Hypothesis: arbitrary inputs from arbitrary peers (style §9, h11 fuzzing).

Whatever arrives, ``step`` and ``handle_timer`` raise nothing but
ProtocolError, effects stay well-typed, and the persistent invariants hold:
epochs never go back, LastCommittedTxid never goes back, the txids a node
commits strictly increase.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wire
from refnode.core.config import Mode, NodeConfig, PeerAddr
from refnode.core.effects import PersistCommit
from refnode.core.errors import ProtocolError
from refnode.core.inputs import (
    BytesReceived,
    ClientRequest,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionEstablished,
    DatagramReceived,
    FrameReceived,
    VoteReceived,
)
from refnode.core.node import Node
from refnode.core.store import PersistentState

MEMBERS = [
    PeerAddr(election_addr=f"10.0.0.{i}:5000", message_addr=f"10.0.0.{i}:6000") for i in (1, 2, 3)
]
ids = st.sampled_from(
    [m.election_addr for m in MEMBERS] + [m.message_addr for m in MEMBERS] + ["1.2.3.4:9", ""]
)
u32 = st.integers(0, 2**32 - 1)
u64 = st.one_of(
    st.integers(0, 2**64 - 1),
    st.builds(lambda e, c: (e << 32) | c, st.integers(0, 4), st.integers(0, 5)),
)
small = st.integers(0, 8)

messages = st.one_of(
    st.builds(
        wire.Vote,
        round=small,
        status=st.integers(0, 5),
        epoch=st.integers(0, 4),
        cnd_id=ids,
        cnd_logged_txn_id=u64,
        cnd_committed_txn_id=u64,
        solicit=st.booleans(),
    ),
    st.builds(
        wire.FollowerInfo, accepted_epoch=st.one_of(small, u32), fid=ids, voting=st.booleans()
    ),
    st.builds(wire.EpochAck, last_logged_txid=u64, current_epoch=u32),
    st.builds(wire.LeaderInfo, accepted_epoch=st.one_of(small, u32)),
    st.builds(wire.NewLeader, current_epoch=st.one_of(small, u32)),
    st.builds(wire.NewLeaderAck),
    st.builds(
        wire.LogEntry,
        txnid=u64,
        op_code=st.integers(0, 60),
        key=st.text(max_size=3),
        content=st.binary(max_size=3),
    ),
    st.builds(
        wire.Proposal,
        txnid=u64,
        fid=ids,
        req_id=u64,
        op_code=st.integers(0, 60),
        key=st.text(max_size=3),
        content=st.binary(max_size=3),
    ),
    st.builds(wire.Accept, txnid=u64, fid=ids),
    st.builds(wire.Commit, txnid=u64),
    st.builds(
        wire.Request,
        req_id=u64,
        op_code=st.integers(0, 60),
        key=st.text(max_size=3),
        content=st.binary(max_size=3),
    ),
    st.builds(wire.Abort, req_id=u64, fid=ids, error=st.text(max_size=3)),
    st.builds(wire.Response, req_id=u64, fid=ids, error=st.text(max_size=3)),
)
conns = st.integers(-2, 3)
inputs = st.one_of(
    st.builds(VoteReceived, src=ids, vote=messages),
    st.builds(DatagramReceived, src=ids, data=st.binary(max_size=64)),
    st.builds(ConnectionAccepted, conn=st.integers(0, 3), peer=st.just("9.9.9.9:1")),
    st.builds(ConnectionEstablished, conn=conns),
    st.builds(FrameReceived, conn=conns, msg=messages),
    st.builds(BytesReceived, conn=conns, data=st.binary(max_size=40)),
    st.builds(ConnectionClosed, conn=conns),
    st.builds(
        ClientRequest,
        request_id=small,
        op_code=st.integers(0, 60),
        key=st.text(max_size=2),
        value=st.binary(max_size=2),
    ),
    st.floats(0.0, 2.0),  # advance the clock and fire timers
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from([Mode.STANDALONE, Mode.EMBEDDED, Mode.WATCHER]),
    size=st.sampled_from([1, 3]),
    steps=st.lists(inputs, max_size=40),
)
def test_Node_arbitrary_inputs_never_crash(mode: Mode, size: int, steps: list[object]) -> None:
    peers = tuple(MEMBERS[1:size]) if mode is not Mode.WATCHER else tuple(MEMBERS)
    host = (
        MEMBERS[0]
        if mode is not Mode.WATCHER
        else PeerAddr(election_addr="10.0.0.9:5000", message_addr="10.0.0.9:6000")
    )
    node = Node(
        NodeConfig(host=host, peers=peers, mode=mode), PersistentState(), random.Random(0), 0.0
    )
    now = 0.0
    ae = ce = lc = 0
    last_commit = -1
    seen_conns: set[int] = set()
    for inp in steps:
        try:
            if isinstance(inp, float):
                now += inp
                node.handle_timer(now)
            else:
                if isinstance(inp, ConnectionAccepted):
                    if inp.conn in seen_conns:
                        continue  # drivers never reuse a connection id
                    seen_conns.add(inp.conn)
                node.step(inp, now)  # type: ignore[arg-type]
        except ProtocolError:
            pass
        for eff in node.drain():
            if isinstance(eff, PersistCommit):
                assert eff.txid > last_commit
                last_commit = eff.txid
        s = node.state
        assert s.accepted_epoch >= ae and s.current_epoch >= ce and s.last_committed_txid >= lc
        assert s.accepted_epoch < 0xFFFFFFFF and s.current_epoch <= s.accepted_epoch
        ae, ce, lc = s.accepted_epoch, s.current_epoch, s.last_committed_txid
