"""Deterministic simulator for refnode.core: virtual clock, seeded network, crashy storage.

Everything random comes from one ``random.Random(seed)``, so a seed replays
exactly. The network models UDP (drop, duplicate, delay, reorder) and TCP
(reliable, ordered per direction, reset on a cut, a crash or a close), with
``cut(a, b)``, ``isolate(a)`` and ``recover()`` as in raft's test network.
Storage follows the effects contract: a persist becomes durable at the next
send of the same batch (group commit), or later; a crash loses a random
*suffix* of what was not durable yet.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import wire
from refnode.core.config import Limits, Mode, NodeConfig, PeerAddr
from refnode.core.effects import (
    PERSIST_TYPES,
    ClientReply,
    CloseConnection,
    Dial,
    EpochEstablished,
    PersistCommit,
    PersistEpochs,
    SendDatagram,
    SendMessage,
)
from refnode.core.errors import ProtocolError
from refnode.core.inputs import (
    BytesReceived,
    ClientRequest,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionEstablished,
    FrameReceived,
    VoteReceived,
)
from refnode.core.node import Node
from refnode.core.store import PersistentState


class InvariantError(AssertionError):
    pass


@dataclass
class Storage:
    durable: PersistentState = field(default_factory=PersistentState)
    unflushed: list[Any] = field(default_factory=list)
    commit_seq: list[tuple[int, int, str, bytes]] = field(default_factory=list)

    def flush(self, sim: Simulator, name: str) -> None:
        for eff in self.unflushed:
            if isinstance(eff, PersistEpochs):
                d = self.durable
                if eff.accepted_epoch < d.accepted_epoch or eff.current_epoch < d.current_epoch:
                    sim.violation(
                        f"{name}: epoch went back {d.accepted_epoch}/{d.current_epoch}"
                        f" -> {eff.accepted_epoch}/{eff.current_epoch}"
                    )
            if isinstance(eff, PersistCommit):
                if self.commit_seq and eff.txid <= self.commit_seq[-1][0]:
                    sim.violation(
                        f"{name}: commit txid {eff.txid:#x} after {self.commit_seq[-1][0]:#x}"
                    )
                self.commit_seq.append((eff.txid, eff.op_code, eff.key, eff.content))
            self.durable.apply(eff)
        self.unflushed.clear()


@dataclass
class Host:
    name: str
    config: NodeConfig
    storage: Storage = field(default_factory=Storage)
    node: Node | None = None
    timer_gen: int = 0
    next_in_id: int = 0


@dataclass
class Endpoint:
    host: str
    conn: int
    peer: Endpoint | None = None
    open: bool = True
    last_delivery: float = 0.0
    decoder_bytes: bool = False


class Simulator:
    def __init__(
        self,
        seed: int,
        n: int = 3,
        *,
        drop: float = 0.02,
        dup: float = 0.02,
        max_delay: float = 0.004,
        bytes_mode: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = 0.0
        self.queue: list[tuple[float, int, Callable[[], None]]] = []
        self.seq = 0
        self.drop, self.dup, self.max_delay = drop, dup, max_delay
        self.bytes_mode = bytes_mode
        self.cuts: set[frozenset[str]] = set()
        self.hosts: dict[str, Host] = {}
        self.by_election: dict[str, str] = {}
        self.by_message: dict[str, str] = {}
        self.endpoints: dict[tuple[str, int], Endpoint] = {}
        self.leaders: dict[int, str] = {}
        self.acked: dict[int, tuple[str, bytes]] = {}
        self.replies: int = 0
        self.errors: list[str] = []
        self.trace: list[str] = []
        self.next_req = 1
        members = [
            PeerAddr(election_addr=f"10.0.0.{i}:5000", message_addr=f"10.0.0.{i}:6000")
            for i in range(1, n + 1)
        ]
        for i, me in enumerate(members):
            name = f"n{i + 1}"
            cfg = NodeConfig(
                host=me,
                peers=tuple(p for p in members if p is not me),
                mode=Mode.STANDALONE,
                limits=limits or Limits(),
            )
            self.hosts[name] = Host(name=name, config=cfg)
            self.by_election[me.election_addr] = name
            self.by_message[me.message_addr] = name

    # -- scheduling -------------------------------------------------------------

    def at(self, t: float, fn: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (t, self.seq, fn))

    def violation(self, text: str) -> None:
        raise InvariantError(f"seed={self.seed} t={self.now:.4f}: {text}")

    def run_until(self, t_end: float) -> None:
        while self.queue and self.queue[0][0] <= t_end:
            t, _, fn = heapq.heappop(self.queue)
            self.now = max(self.now, t)
            fn()
        self.now = max(self.now, t_end)

    # -- hosts --------------------------------------------------------------------

    def start(self, name: str) -> None:
        h = self.hosts[name]
        if h.node is not None:
            return
        rng = random.Random(self.rng.getrandbits(64))
        h.node = Node(h.config, h.storage.durable.copy(), rng, self.now)
        self._after(h)

    def crash(self, name: str) -> None:
        h = self.hosts[name]
        if h.node is None:
            return
        h.node = None
        h.timer_gen += 1
        # Lose a random suffix of what was not durable yet.
        keep = self.rng.randint(0, len(h.storage.unflushed))
        del h.storage.unflushed[keep:]
        h.storage.flush(self, name)
        for (host, _conn), ep in list(self.endpoints.items()):
            if host == name:
                self._reset(ep)

    def alive(self) -> list[str]:
        return [n for n, h in self.hosts.items() if h.node is not None]

    def _call(self, name: str, fn: Callable[[Node], None]) -> None:
        h = self.hosts[name]
        if h.node is None:
            return
        try:
            fn(h.node)
        except ProtocolError as exc:
            self.errors.append(exc.reason)
            self.trace.append(f"{self.now:.4f} {name} {exc}")
        self._after(h)

    def _after(self, h: Host) -> None:
        node = h.node
        assert node is not None
        effects = node.drain()
        st = h.storage
        for eff in effects:
            if isinstance(eff, PERSIST_TYPES):
                st.unflushed.append(eff)
                continue
            if isinstance(eff, SendDatagram | Dial | SendMessage | ClientReply):
                st.flush(self, h.name)
            if isinstance(eff, SendDatagram):
                self._datagram(h.name, eff)
            elif isinstance(eff, Dial):
                self._dial(h.name, eff)
            elif isinstance(eff, SendMessage):
                self._send(h.name, eff)
            elif isinstance(eff, CloseConnection):
                ep = self.endpoints.get((h.name, eff.conn))
                if ep is not None:
                    self._close(ep)
            elif isinstance(eff, ClientReply):
                self.replies += 1
                if eff.error is None and eff.txid:
                    self._acked(h.name, eff)
            elif isinstance(eff, EpochEstablished):
                other = self.leaders.setdefault(eff.epoch, h.name)
                if other != h.name:
                    self.violation(f"two leaders in epoch {eff.epoch}: {other} and {h.name}")
        if st.unflushed and self.rng.random() < 0.5:
            st.flush(self, h.name)
        h.timer_gen += 1
        gen = h.timer_gen
        d = node.next_deadline()
        if d is not None:
            self.at(max(d, self.now), lambda: self._timer(h, gen))

    def _timer(self, h: Host, gen: int) -> None:
        if h.node is None or h.timer_gen != gen:
            return
        now = self.now
        self._call(h.name, lambda n: n.handle_timer(now))

    # -- network -------------------------------------------------------------------

    def cut(self, a: str, b: str) -> None:
        self.cuts.add(frozenset((a, b)))
        for (host, _conn), ep in list(self.endpoints.items()):
            if host == a and ep.peer is not None and ep.peer.host == b:
                self._reset(ep)

    def isolate(self, a: str) -> None:
        for b in self.hosts:
            if b != a:
                self.cut(a, b)

    def recover(self) -> None:
        self.cuts.clear()

    def _linked(self, a: str, b: str) -> bool:
        return frozenset((a, b)) not in self.cuts

    def _delay(self) -> float:
        return 0.0002 + self.rng.random() * self.max_delay

    def _datagram(self, src: str, eff: SendDatagram) -> None:
        dst = self.by_election.get(eff.to)
        if dst is None or not self._linked(src, dst) or self.rng.random() < self.drop:
            return
        copies = 2 if self.rng.random() < self.dup else 1
        src_addr = self.hosts[src].config.host.election_addr
        for _ in range(copies):
            t = self.now + self._delay()
            vote = eff.msg
            if self.bytes_mode:
                data = wire.encode(vote)
                self.at(
                    t,
                    lambda d=data: self._call(dst, lambda n: n.step(_dgram(src_addr, d), self.now)),
                )
            else:
                self.at(
                    t,
                    lambda v=vote: self._call(
                        dst, lambda n: n.step(VoteReceived(src=src_addr, vote=v), self.now)
                    ),
                )

    def _dial(self, src: str, eff: Dial) -> None:
        dst = self.by_message.get(eff.addr)
        t = self.now + self._delay()
        a = Endpoint(host=src, conn=eff.conn)
        self.endpoints[(src, eff.conn)] = a
        if dst is None or self.hosts[dst].node is None or not self._linked(src, dst):
            a.open = False
            del self.endpoints[(src, eff.conn)]
            self.at(
                t,
                lambda: self._call(
                    src,
                    lambda n: n.step(ConnectionClosed(conn=eff.conn, reason="refused"), self.now),
                ),
            )
            return
        hd = self.hosts[dst]
        hd.next_in_id += 1
        b = Endpoint(host=dst, conn=hd.next_in_id, peer=a)
        a.peer = b
        self.endpoints[(dst, b.conn)] = b
        peer_addr = f"{self.hosts[src].config.host.message_addr.split(':')[0]}:{40000 + b.conn}"
        a.last_delivery = b.last_delivery = t
        self.at(
            t,
            lambda: self._call(
                dst, lambda n: n.step(ConnectionAccepted(conn=b.conn, peer=peer_addr), self.now)
            ),
        )
        self.at(
            t,
            lambda: self._call(src, lambda n: n.step(ConnectionEstablished(conn=a.conn), self.now)),
        )

    def _send(self, src: str, eff: SendMessage) -> None:
        a = self.endpoints.get((src, eff.conn))
        if a is None or not a.open or a.peer is None:
            return
        b = a.peer
        t = max(self.now + self._delay(), b.last_delivery)
        b.last_delivery = t
        msg = eff.msg
        if self.bytes_mode:
            data = wire.encode(msg)
            cut = self.rng.randint(0, len(data))
            for part in (data[:cut], data[cut:]):
                if part:
                    self.at(t, lambda p=part: self._deliver_bytes(b, p))
        else:
            self.at(t, lambda: self._deliver(b, msg))

    def _deliver(self, b: Endpoint, msg: Any) -> None:
        if b.open:
            self._call(b.host, lambda n: n.step(FrameReceived(conn=b.conn, msg=msg), self.now))

    def _deliver_bytes(self, b: Endpoint, data: bytes) -> None:
        if b.open:
            self._call(b.host, lambda n: n.step(BytesReceived(conn=b.conn, data=data), self.now))

    def _close(self, a: Endpoint) -> None:
        """An orderly close: the peer sees EOF after the bytes already in flight."""
        if not a.open:
            return
        a.open = False
        self.endpoints.pop((a.host, a.conn), None)
        b = a.peer
        if b is not None and b.open:
            t = max(self.now + self._delay(), b.last_delivery)
            self.at(t, lambda: self._eof(b))

    def _eof(self, b: Endpoint) -> None:
        if not b.open:
            return
        b.open = False
        self.endpoints.pop((b.host, b.conn), None)
        self._call(b.host, lambda n: n.step(ConnectionClosed(conn=b.conn, reason="eof"), self.now))

    def _reset(self, a: Endpoint) -> None:
        """A reset (crash, cut): both ends see an error; in-flight bytes are lost."""
        for ep in (a, a.peer):
            if ep is not None and ep.open:
                ep.open = False
                self.endpoints.pop((ep.host, ep.conn), None)
                if self.hosts[ep.host].node is not None:
                    e = ep
                    self.at(
                        self.now + self._delay(),
                        lambda e=e: self._call(
                            e.host,
                            lambda n: n.step(
                                ConnectionClosed(conn=e.conn, reason="reset"), self.now
                            ),
                        ),
                    )

    # -- clients ---------------------------------------------------------------------

    def client_set(self, name: str, key: str, value: bytes) -> None:
        rid = self.next_req
        self.next_req += 1
        self._call(
            name,
            lambda n: n.step(
                ClientRequest(request_id=rid, op_code=2, key=key, value=value), self.now
            ),
        )

    def _acked(self, name: str, eff: ClientReply) -> None:
        h = self.hosts[name]
        assert h.node is not None
        rec = h.node.state.log.get(eff.txid)
        if rec is None:
            self.violation(f"{name}: acked txid {eff.txid:#x} not in its log")
        assert rec is not None
        self.acked[eff.txid] = (rec.key, rec.content)

    # -- invariants -----------------------------------------------------------------

    def check(self) -> None:
        seqs = {n: h.storage.commit_seq for n, h in self.hosts.items()}
        names = sorted(seqs, key=lambda n: len(seqs[n]))
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                sa, sb = seqs[a], seqs[b]
                if sb[: len(sa)] != sa:
                    k = next(j for j in range(len(sa)) if sa[j] != sb[j])
                    self.violation(
                        f"committed logs diverge: {a}[{k}]={_d(sa[k])} {b}[{k}]={_d(sb[k])}"
                    )
        longest = {e[0]: (e[2], e[3]) for e in seqs[names[-1]]} if names else {}
        for txid, kv in self.acked.items():
            if longest.get(txid) != kv:
                self.violation(f"acknowledged txid {txid:#x} {kv} lost")


def _d(e: tuple[int, int, str, bytes]) -> str:
    return f"({e[0] >> 32},{e[0] & 0xFFFFFFFF} {e[2]}={e[3]!r})"


def _dgram(src: str, data: bytes) -> Any:
    from refnode.core.inputs import DatagramReceived

    return DatagramReceived(src=src, data=data)


def random_scenario(seed: int, n: int, duration: float = 6.0) -> Simulator:
    """Cold start, a write load, crashes and partitions, then heal and settle."""
    rng = random.Random(seed ^ 0x5EED)
    sim = Simulator(
        seed,
        n,
        bytes_mode=rng.random() < 0.1,
        drop=rng.choice([0, 0.02, 0.1]),
        dup=rng.choice([0, 0.02, 0.1]),
    )
    for name in sim.hosts:
        sim.at(rng.random() * 0.05, lambda name=name: sim.start(name))
    names = list(sim.hosts)
    t = 0.3
    k = 0
    while t < duration:
        t += rng.expovariate(1 / 0.06)
        k += 1
        key, val = f"k{rng.randint(0, 9)}", f"v{k}".encode()
        sim.at(t, lambda key=key, val=val: _write(sim, rng, key, val))
    for _ in range(rng.randint(0, 4)):
        ft = rng.uniform(0.2, duration)
        kind = rng.choice(["crash", "crash", "cut", "isolate"])
        a, b = rng.sample(names, 2)
        if kind == "crash":
            sim.at(ft, lambda a=a: sim.crash(a))
            sim.at(ft + rng.uniform(0.05, 1.5), lambda a=a: sim.start(a))
        elif kind == "cut":
            sim.at(ft, lambda a=a, b=b: sim.cut(a, b))
            sim.at(ft + rng.uniform(0.1, 1.5), sim.recover)
        else:
            sim.at(ft, lambda a=a: sim.isolate(a))
            sim.at(ft + rng.uniform(0.1, 1.5), sim.recover)
    sim.at(duration, sim.recover)
    for name in names:
        sim.at(duration, lambda name=name: sim.start(name))
    return sim


def _write(sim: Simulator, rng: random.Random, key: str, val: bytes) -> None:
    alive = sim.alive()
    if alive:
        sim.client_set(rng.choice(alive), key, val)


def run_seed(seed: int, n: int, duration: float = 6.0, settle: float = 3.0) -> Simulator:
    sim = random_scenario(seed, n, duration)
    sim.run_until(duration + settle)
    for h in sim.hosts.values():
        if h.node is not None:
            h.storage.flush(sim, h.name)
    sim.check()
    return sim
