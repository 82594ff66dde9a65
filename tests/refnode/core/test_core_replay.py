"""Replay the real Go capture from m1's point of view (spec §4-§6).

``tests/testdata/captures`` holds 504 frames of
a 3-member gometa ensemble: cold start, 50 Sets through m1, kill of the
leader m3, re-election of m2, 20 more Sets. We feed the core every vote and
every TCP frame addressed to m1 at its capture time, feed the Sets as client
requests when Go's m1 forwarded them, close m1's connection when m3 dies,
and check that the core elects the same leaders and sends the same TCP
frames as Go's m1 did, in the same order.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

import wire
from refnode.core.config import NodeConfig, PeerAddr
from refnode.core.effects import Dial, LeaderElected, SendDatagram, SendMessage
from refnode.core.inputs import (
    ClientRequest,
    ConnectionClosed,
    ConnectionEstablished,
    FrameReceived,
    VoteReceived,
)
from refnode.core.node import Node
from refnode.core.store import PersistentState

ROOT = Path(__file__).parents[3]
CANDIDATES = [
    *sorted((ROOT / "tests" / "testdata" / "captures").glob("**/gometa-3node.frames.json")),
]


def _capture() -> list[dict[str, Any]]:
    for path in CANDIDATES:
        if path.exists():
            frames: list[dict[str, Any]] = json.loads(path.read_text())
            return frames
    pytest.skip("capture not available")


def _member(i: int) -> PeerAddr:
    return PeerAddr(election_addr=f"127.0.0.1:320{i}0", message_addr=f"127.0.0.1:320{i}1")


def _msg(frame: dict[str, Any]) -> wire.Message:
    return wire.decode(bytes.fromhex(frame["hex"]))


def test_replay_m1_matches_go() -> None:
    frames = _capture()
    m1 = _member(1)
    cfg = NodeConfig(host=m1, peers=(_member(2), _member(3)))
    t0 = frames[0]["t_rel"]
    node = Node(cfg, PersistentState(), random.Random(1), t0)
    mine_tcp: list[wire.Message] = []
    mine_votes: set[tuple[int, int, int, str]] = set()
    leaders: list[str] = []
    conn = 0
    req_map: dict[int, int] = {}
    my_req_ids: list[int] = []

    def pump(now: float) -> None:
        nonlocal conn
        while (d := node.next_deadline()) is not None and d <= now:
            node.handle_timer(d)
            drain(d)
        drain(now)

    def drain(now: float) -> None:
        nonlocal conn
        for eff in node.drain():
            if isinstance(eff, SendMessage):
                mine_tcp.append(eff.msg)
                if isinstance(eff.msg, wire.Request):
                    my_req_ids.append(eff.msg.req_id)
            elif isinstance(eff, SendDatagram):
                v = eff.msg
                mine_votes.add((v.round, v.status, v.epoch, v.cnd_id))
            elif isinstance(eff, Dial):
                conn = eff.conn
                node.step(ConnectionEstablished(conn=conn), now)
                drain(now)
            elif isinstance(eff, LeaderElected):
                leaders.append(eff.leader)

    go_tcp = [f for f in frames if f["src_member"] == "m1" and f["proto"] != "udp"]
    go_votes = {
        (f["fields"]["round"], f["fields"]["status"], f["fields"]["epoch"], f["fields"]["cnd_id"])
        for f in frames
        if f["src_member"] == "m1" and f["proto"] == "udp"
    }
    kill_t = min(
        f["t_rel"]
        for f in frames
        if f["proto"] == "udp" and f["src_member"] == "m1" and f["fields"]["round"] >= 2
    )
    killed = False
    go_requests = [f for f in frames if f["src_member"] == "m1" and f["name"] == "Request"]
    for f in frames:
        now = f["t_rel"]
        if not killed and now >= kill_t - 0.0005:
            pump(kill_t - 0.0005)
            node.step(ConnectionClosed(conn=conn, reason="reset"), kill_t - 0.0005)
            killed = True
        pump(now)
        if f["src_member"] == "m1" and f["name"] == "Request":
            k = go_requests.index(f)
            fields = f["fields"]
            node.step(
                ClientRequest(
                    request_id=k,
                    op_code=fields["op_code"],
                    key=fields["key"],
                    value=bytes.fromhex(fields["content"]),
                ),
                now,
            )
            drain(now)
            req_map[fields["req_id"]] = my_req_ids[-1]
            continue
        if f["dst_member"] != "m1":
            continue
        msg = _msg(f)
        if f["proto"] == "udp":
            src = f["stream"].split("->")[0]
            node.step(VoteReceived(src=src, vote=msg), now)
        else:
            if isinstance(msg, wire.Proposal) and msg.req_id in req_map:
                msg = wire.Proposal(
                    txnid=msg.txnid,
                    fid=msg.fid,
                    req_id=req_map[msg.req_id],
                    op_code=msg.op_code,
                    key=msg.key,
                    content=msg.content,
                )
            node.step(FrameReceived(conn=conn, msg=msg), now)
        drain(now)
    pump(frames[-1]["t_rel"] + 0.001)

    assert leaders == [_member(3).election_addr, _member(2).election_addr]

    def norm(m: wire.Message) -> Any:
        if isinstance(m, wire.Request):
            return ("Request", m.op_code, m.key, m.content)
        return m

    assert [norm(m) for m in mine_tcp] == [norm(_msg(f)) for f in go_tcp]
    # Every distinct vote we sent is one Go's m1 sent as well.
    assert mine_votes <= go_votes, mine_votes - go_votes
