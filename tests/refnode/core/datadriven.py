"""A small datadriven runner (raft ``interaction_test.go`` style) for one node.

Script syntax, one command per block::

    # comment
    <command> <args...>
    ----
    <expected output: one line per effect drained after the command>

Commands (the node under test is member 1; members are ``@i`` for election
ids ``127.0.0.1:500i`` and ``#i`` for message addrs ``127.0.0.1:600i``):

* ``node members=3 [mode=standalone|watcher|embedded] [ae=.. ce=.. logged=.. committed=..]
  [log=e.c:key=val,...] [committed_log=...] [max_outstanding=N] [trace=1]``: create the
  node at t=0. With ``trace=1`` every state-machine move is rendered too, as
  ``trace <machine> [conn=..] FROM --INPUT[/action]--> TO``, in order among the effects.
* ``vote src=@2 round=1 status=0 epoch=0 cnd=@2 logged=0 committed=0 [solicit=1]``
* ``dgram src=@2 hex=...``: raw datagram bytes.
* ``tick <seconds>``: advance the clock and fire due timers.
* ``accept conn=1``, ``connected conn=-1``, ``closed conn=1``
* ``recv conn=1 <Message> field=value ...``: a decoded frame.
* ``bytes conn=1 hex=...``: raw stream bytes.
* ``client id=1 op=2 key=k value=v``
* ``stop``: the driver stops the node (``Stop``).
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wire
from refnode.core import effects as fx
from refnode.core.config import Limits, Mode, NodeConfig, PeerAddr
from refnode.core.errors import ProtocolError
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
from refnode.core.node import Node
from refnode.core.store import LogRecord, PersistentState
from refnode.core.trace import Transition


def member(i: int) -> PeerAddr:
    return PeerAddr(election_addr=f"127.0.0.1:500{i}", message_addr=f"127.0.0.1:600{i}")


def addr(token: str) -> str:
    if token.startswith("@"):
        return member(int(token[1:])).election_addr
    if token.startswith("#"):
        return member(int(token[1:])).message_addr
    return token


def unaddr(text: str) -> str:
    text = re.sub(r"127\.0\.0\.1:500(\d)", r"@\1", text)
    return re.sub(r"127\.0\.0\.1:600(\d)", r"#\1", text)


def txid(token: str) -> int:
    if "." in token:
        e, c = token.split(".")
        return (int(e) << 32) | int(c)
    return int(token, 0)


def fmt_value(name: str, v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int) and ("txid" in name or "txn" in name or name == "after_txid"):
        return f"{v >> 32}.{v & 0xFFFFFFFF}"
    if isinstance(v, bytes):
        return v.decode("latin-1") if v.isascii() else v.hex()
    if v is None:
        return "-"
    return unaddr(str(v))


def describe(obj: Any) -> str:
    """One line per message, effect or event."""
    if isinstance(obj, fx.SendDatagram):
        return f"dgram to={unaddr(obj.to)} {describe(obj.msg)}"
    if isinstance(obj, fx.SendMessage):
        return f"send conn={obj.conn} {describe(obj.msg)}"
    parts = [type(obj).__name__]
    for f in dataclasses.fields(obj):
        if f.name == "version":
            continue
        parts.append(f"{f.name}={fmt_value(f.name, getattr(obj, f.name))}")
    return " ".join(parts)


_MSG_FIELDS: dict[str, str] = {
    "cnd": "cnd_id",
    "logged": "cnd_logged_txn_id",
    "committed": "cnd_committed_txn_id",
}


def parse_kv(args: list[str]) -> dict[str, str]:
    out = {}
    for a in args:
        k, sep, v = a.partition("=")
        if sep:
            out[k] = v
    return out


def build(cls: type, kv: dict[str, str]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    vals: dict[str, Any] = {}
    for k, v in kv.items():
        name = _MSG_FIELDS.get(k, k) if cls is wire.Vote else k
        t = str(fields[name].type)
        if "bool" in t:
            vals[name] = v in ("1", "true")
        elif "bytes" in t:
            vals[name] = v.encode()
        elif "int" in t:
            vals[name] = txid(v)
        else:
            vals[name] = addr(v)
    return cls(**vals)


def parse_log(spec: str) -> dict[int, LogRecord]:
    log = {}
    for item in filter(None, spec.split(",")):
        t, _, kv = item.partition(":")
        k, _, v = kv.partition("=")
        log[txid(t)] = LogRecord(txid=txid(t), op_code=2, key=k, content=v.encode())
    return log


def describe_transition(t: Transition) -> str:
    conn = f" conn={t.conn}" if t.conn is not None else ""
    inp = f"{t.input}/{t.action}" if t.action else t.input
    return f"trace {t.machine}{conn} {t.from_state} --{unaddr(inp)}--> {t.to_state}"


class Runner:
    def __init__(self, sink: Callable[[Transition], None] | None = None) -> None:
        self.node: Node | None = None
        self.now = 0.0
        self.sink = sink
        self.show_trace = False
        self.moves: list[tuple[int, Transition]] = []
        """Moves of the current command, each with the number of effects queued before it."""

    def _hook(self, t: Transition) -> None:
        if self.sink is not None:
            self.sink(t)
        if self.show_trace:
            # While the node is being built its outbox is not reachable yet:
            # those moves are shown before the effects.
            self.moves.append((len(self.node.ctx.out) if self.node is not None else 0, t))

    def run(self, line: str) -> list[str]:
        cmd, *args = line.split()
        kv = parse_kv(args)
        out: list[str] = []
        self.moves = []
        try:
            getattr(self, "cmd_" + cmd.replace("-", "_"))(args, kv)
        except ProtocolError as exc:
            out.append(f"error {type(exc).__name__} reason={exc.reason}")
        if self.node is not None:
            lines: list[str] = []
            moves = list(self.moves)
            for i, e in enumerate(self.node.drain()):
                while moves and moves[0][0] <= i:
                    lines.append(describe_transition(moves.pop(0)[1]))
                lines.append(describe(e))
            lines += [describe_transition(m[1]) for m in moves]
            out = lines + out
        return out

    def cmd_node(self, args: list[str], kv: dict[str, str]) -> None:
        n = int(kv.get("members", "3"))
        mode = Mode(kv.get("mode", "standalone"))
        members = [member(i) for i in range(1, n + 1)]
        if mode is Mode.WATCHER:
            host = PeerAddr(election_addr="127.0.0.1:5009", message_addr="127.0.0.1:6009")
            peers = tuple(members)
        else:
            host, peers = members[0], tuple(members[1:])
        limits = Limits(
            max_outstanding_proposals=int(kv.get("max_outstanding", "10000")),
            max_client_queue=int(kv.get("max_queue", "10000")),
        )
        cfg = NodeConfig(host=host, peers=peers, mode=mode, fid=kv.get("fid", ""), limits=limits)
        self.show_trace = kv.get("trace") == "1"
        log = parse_log(kv.get("log", ""))
        committed = parse_log(kv.get("committed_log", ""))
        state = PersistentState(
            accepted_epoch=int(kv.get("ae", "0")),
            accepted_leader=addr(kv.get("ae_leader", "")),
            current_epoch=int(kv.get("ce", "0")),
            last_logged_txid=max([0, *log, *committed]),
            last_committed_txid=max([0, *committed]),
            log={**committed, **log},
            committed=set(committed),
            data={r.key: r.content for r in committed.values()},
        )
        self.node = None
        self.node = Node(
            cfg, state, random.Random(int(kv.get("seed", "1"))), self.now, trace=self._hook
        )

    def _n(self) -> Node:
        assert self.node is not None
        return self.node

    def cmd_vote(self, args: list[str], kv: dict[str, str]) -> None:
        src = addr(kv.pop("src"))
        kv.setdefault("solicit", "0")
        kv.setdefault("logged", "0")
        kv.setdefault("committed", "0")
        self._n().step(VoteReceived(src=src, vote=build(wire.Vote, kv)), self.now)

    def cmd_dgram(self, args: list[str], kv: dict[str, str]) -> None:
        self._n().step(
            DatagramReceived(src=addr(kv["src"]), data=bytes.fromhex(kv["hex"])), self.now
        )

    def cmd_tick(self, args: list[str], kv: dict[str, str]) -> None:
        target = self.now + float(args[0])
        node = self._n()
        while (d := node.next_deadline()) is not None and d <= target + 1e-9:
            self.now = max(self.now, d)
            node.handle_timer(self.now)
        self.now = target

    def cmd_accept(self, args: list[str], kv: dict[str, str]) -> None:
        self._n().step(ConnectionAccepted(conn=int(kv["conn"]), peer="127.0.0.1:40000"), self.now)

    def cmd_connected(self, args: list[str], kv: dict[str, str]) -> None:
        self._n().step(ConnectionEstablished(conn=int(kv["conn"])), self.now)

    def cmd_closed(self, args: list[str], kv: dict[str, str]) -> None:
        self._n().step(ConnectionClosed(conn=int(kv["conn"])), self.now)

    def cmd_recv(self, args: list[str], kv: dict[str, str]) -> None:
        conn = int(kv.pop("conn"))
        name = next(a for a in args if "=" not in a)
        cls = next(c for c in wire.MESSAGE_CLASSES if c.__name__ == name)
        self._n().step(FrameReceived(conn=conn, msg=build(cls, kv)), self.now)

    def cmd_bytes(self, args: list[str], kv: dict[str, str]) -> None:
        data = bytes.fromhex(kv["hex"])
        self._n().step(BytesReceived(conn=int(kv["conn"]), data=data), self.now)

    def cmd_client(self, args: list[str], kv: dict[str, str]) -> None:
        self._n().step(
            ClientRequest(
                request_id=int(kv["id"]),
                op_code=int(kv["op"]),
                key=kv.get("key", ""),
                value=kv.get("value", "").encode(),
            ),
            self.now,
        )

    def cmd_stop(self, args: list[str], kv: dict[str, str]) -> None:
        self._n().step(Stop(), self.now)

    def cmd_state(self, args: list[str], kv: dict[str, str]) -> None:
        s = self._n().state
        print_ = (
            f"role={self._n().role.value} ae={s.accepted_epoch} ce={s.current_epoch} "
            f"logged={fmt_value('txid', s.last_logged_txid)} "
            f"committed={fmt_value('txid', s.last_committed_txid)} data={sorted(s.data.items())}"
        )
        self._n().ctx.out.append(fx.RunEnded(run=-1, reason=print_))


def run_file(
    path: Path, rewrite: bool, sink: Callable[[Transition], None] | None = None
) -> tuple[str, str]:
    """Run a script; returns (expected text, actual text). Blocks are separated
    by blank lines: comments, one command, ``----``, one line per effect.
    ``sink`` receives every state-machine move (coverage tests)."""
    text = path.read_text()
    runner = Runner(sink)
    outs = []
    for block in (b for b in text.strip().split("\n\n") if b.strip()):
        head = block.partition("\n----")[0] if not block.startswith("----") else ""
        lines = head.splitlines()
        comments = [ln for ln in lines if ln.startswith("#")]
        cmds = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
        if not cmds:
            outs.append("\n".join(comments))
            continue
        assert len(cmds) == 1, f"{path}: one command per block: {cmds}"
        outs.append("\n".join([*comments, cmds[0], "----", *runner.run(cmds[0])]))
    actual = "\n\n".join(outs) + "\n"
    if rewrite:
        path.write_text(actual)
    return text, actual
