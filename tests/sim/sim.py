"""Deterministic simulator for refnode.core: virtual clock, seeded network, crashy storage.

Everything random comes from one ``random.Random(seed)``, so a seed replays
exactly. The network models UDP (drop, duplicate, delay, reorder) and TCP
(reliable, ordered per direction, reset on a cut, a crash or a close), with
``cut(a, b)``, ``isolate(a)`` and ``recover()`` as in raft's test network.
Storage follows the effects contract: a persist becomes durable at the next
send of the same batch (group commit), or later; a crash loses a random
*suffix* of what was not durable yet.

Shapes: an ensemble of ``n`` members, optionally with ``watchers`` (non-voting,
finding the leader by soliciting votes), or the *embedded* shape: one
always-leading embedded node and watchers that dial it directly.

Blackholes (``blackhole(a, b)``, ``blackhole_isolate(a)``, and ``poweroff(a)``,
a machine that vanishes): packets are silently lost and nobody gets a reset.
UDP datagrams are lost. TCP stays reliable, so a blackhole *stalls* each
direction: frames wait, and after ``recover()`` they arrive in order, unless
an end gave up first. An end gives up after ``keepalive`` seconds of
blackhole (dialled ends: gometa's keepalive; accepted ends: Go's listener
default) or ``rto`` seconds of unacknowledged data (retransmission timeout);
its reset is lost too, so the other end learns only at the heal (its next
packet or keepalive probe draws a reset) or by its own timeout. A close
during a blackhole delivers its EOF at the heal. Dials into a blackhole fail
after ``connect_timeout``. The timeouts are scaled down from the real ones
(Go: 15 s keepalive idle, minutes of retransmission) to fit short runs; only
their order matters to the protocol, which has no heartbeat (W37).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
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
    RoleChanged,
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
from refnode.core.tables import TABLES
from refnode.core.trace import TraceHook, Transition

ALLOWED_ROLES = {
    Mode.STANDALONE: {"ELECTING", "LEADING", "FOLLOWING", "PAUSED", "STOPPED"},
    Mode.WATCHER: {"ELECTING", "WATCHING", "PAUSED", "STOPPED"},
    Mode.EMBEDDED: {"LEADING", "PAUSED", "STOPPED"},
}
"""The roles each deployment shape may ever take (spec §0, §7)."""

_MOVES = {
    name: {(e.from_state, e.input, e.to_state, e.action) for e in t.edges}
    for name, t in TABLES.items()
}


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
    keepalive: float = 0.0
    dead: bool = False
    """Gone without telling the peer (crash or timeout inside a blackhole)."""
    stalled: list[Any] = field(default_factory=list)
    """Frames sent into a blackhole, in order; delivered at the heal."""
    stalled_since: float = 0.0
    fin: bool = False
    """Closed inside a blackhole: the EOF reaches the peer at the heal."""


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
        watchers: int = 0,
        embedded: bool = False,
        trace: TraceHook | None = None,
        keepalive_dial: float = 2.0,
        keepalive_accept: float = 3.0,
        rto: float = 1.5,
        connect_timeout: float = 1.0,
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
        self.hook = trace
        self.holes: dict[frozenset[str], float] = {}
        self.down: dict[str, float] = {}
        self.fin_pending: list[Endpoint] = []
        self.keepalive_dial, self.keepalive_accept = keepalive_dial, keepalive_accept
        self.rto, self.connect_timeout = rto, connect_timeout
        members = [
            PeerAddr(election_addr=f"10.0.0.{i}:5000", message_addr=f"10.0.0.{i}:6000")
            for i in range(1, n + 1)
        ]
        lim = limits or Limits()
        for i, me in enumerate(members):
            name = f"n{i + 1}"
            if embedded:
                cfg = NodeConfig(host=me, mode=Mode.EMBEDDED, limits=lim)
            else:
                cfg = NodeConfig(
                    host=me,
                    peers=tuple(p for p in members if p is not me),
                    mode=Mode.STANDALONE,
                    limits=lim,
                )
            self._add_host(name, cfg)
        for i in range(1, watchers + 1):
            me = PeerAddr(election_addr=f"10.0.1.{i}:5000", message_addr=f"10.0.1.{i}:6000")
            if embedded:
                cfg = NodeConfig(
                    host=me,
                    mode=Mode.WATCHER,
                    leader_message_addr=members[0].message_addr,
                    limits=lim,
                )
            else:
                cfg = NodeConfig(host=me, peers=tuple(members), mode=Mode.WATCHER, limits=lim)
            self._add_host(f"w{i}", cfg)

    def _add_host(self, name: str, cfg: NodeConfig) -> None:
        self.hosts[name] = Host(name=name, config=cfg)
        self.by_election[cfg.host.election_addr] = name
        self.by_message[cfg.host.message_addr] = name

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
        h.node = Node(h.config, h.storage.durable.copy(), rng, self.now, trace=self._tracer(h))
        self._after(h)
        if self.down.pop(name, None) is not None:
            self._heal()  # the rebooted kernel resets what the old one left open

    def _tracer(self, h: Host) -> TraceHook | None:
        """Check every move against its table; forward it to the sim's hook."""
        if self.hook is None:
            return None
        hook = self.hook

        def on_move(t: Transition) -> None:
            if (t.from_state, t.input, t.to_state, t.action) not in _MOVES[t.machine] and not (
                TABLES[t.machine].allows(t)
            ):
                self.violation(f"{h.name}: move outside its table: {t}")
            hook(t)

        return on_move

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

    def poweroff(self, name: str) -> None:
        """The machine vanishes: a crash whose resets nobody receives."""
        if self.hosts[name].node is None:
            return
        self.down[name] = self.now
        self.crash(name)  # its endpoints' resets cannot leave a machine that is down
        self._arm(lambda ep: ep.peer is not None and ep.peer.host == name)

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
            elif isinstance(eff, RoleChanged) and eff.role not in ALLOWED_ROLES[h.config.mode]:
                self.violation(f"{h.name} ({h.config.mode.value}) became {eff.role}")
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
        if self.holes:
            self.holes.clear()
            self._heal()

    def blackhole(self, a: str, b: str) -> None:
        """Silently lose every packet between ``a`` and ``b`` until ``recover()``."""
        key = frozenset((a, b))
        if key in self.holes or a == b:
            return
        self.holes[key] = self.now
        self._arm(lambda ep: ep.peer is not None and frozenset((ep.host, ep.peer.host)) == key)

    def blackhole_isolate(self, a: str) -> None:
        for b in self.hosts:
            if b != a:
                self.blackhole(a, b)

    def _linked(self, a: str, b: str) -> bool:
        return frozenset((a, b)) not in self.cuts

    def _passable(self, a: str, b: str) -> bool:
        """Packets between the machines get through (no blackhole, both powered)."""
        if not self.holes and not self.down:
            return True
        return frozenset((a, b)) not in self.holes and a not in self.down and b not in self.down

    def _impassable_since(self, a: str, b: str) -> float | None:
        causes = [self.down.get(a), self.down.get(b), self.holes.get(frozenset((a, b)))]
        ts = [t for t in causes if t is not None]
        return min(ts) if ts else None

    def _arm(self, pred: Callable[[Endpoint], bool]) -> None:
        """Start the keepalive clock of every open endpoint ``pred`` selects."""
        for ep in list(self.endpoints.values()):
            if ep.open and ep.peer is not None and pred(ep):
                self._check_later(ep, ep.keepalive, "keepalive-timeout", stalled=False)

    def _check_later(self, ep: Endpoint, after: float, reason: str, *, stalled: bool) -> None:
        self.at(self.now + after, lambda: self._give_up(ep, after, reason, stalled=stalled))

    def _give_up(self, ep: Endpoint, after: float, reason: str, *, stalled: bool) -> None:
        """A timeout inside a blackhole: the end errors; its reset is lost."""
        if not ep.open or ep.peer is None or (stalled and not ep.stalled):
            return
        since = self._impassable_since(ep.host, ep.peer.host)
        if since is None:
            return
        if stalled:
            since = max(since, ep.stalled_since)
        if self.now + 1e-9 < since + after:
            self.at(since + after, lambda: self._give_up(ep, after, reason, stalled=stalled))
            return
        ep.open, ep.dead, ep.stalled = False, True, []
        self.endpoints.pop((ep.host, ep.conn), None)
        self._notify(ep, reason)

    def _notify(self, ep: Endpoint, reason: str) -> None:
        if self.hosts[ep.host].node is None:
            return
        self.at(
            self.now + self._delay(),
            lambda: self._call(
                ep.host, lambda n: n.step(ConnectionClosed(conn=ep.conn, reason=reason), self.now)
            ),
        )

    def _heal(self) -> None:
        """Links came back: stalled frames and EOFs arrive, orphaned ends get resets."""
        for ep in list(self.endpoints.values()):
            peer = ep.peer
            if not ep.open or peer is None or not self._passable(ep.host, peer.host):
                continue
            if ep.stalled:
                frames, ep.stalled = ep.stalled, []
                for msg in frames:
                    self._transmit(ep, msg)
            elif peer.dead:
                self._reset(ep)
        for ep in list(self.fin_pending):
            peer = ep.peer
            if peer is None or self._passable(ep.host, peer.host):
                self.fin_pending.remove(ep)
                if peer is not None and peer.open:
                    frames, ep.stalled = ep.stalled, []
                    for msg in frames:
                        self._schedule(ep, msg)
                    t = max(self.now + self._delay(), peer.last_delivery)
                    self.at(t, partial(self._eof, peer))

    def _delay(self) -> float:
        return 0.0002 + self.rng.random() * self.max_delay

    def _datagram(self, src: str, eff: SendDatagram) -> None:
        dst = self.by_election.get(eff.to)
        if (
            dst is None
            or not self._linked(src, dst)
            or not self._passable(src, dst)
            or self.rng.random() < self.drop
        ):
            return
        copies = 2 if self.rng.random() < self.dup else 1
        src_addr = self.hosts[src].config.host.election_addr
        for _ in range(copies):
            t = self.now + self._delay()
            vote = eff.msg
            if self.bytes_mode:
                data = wire.encode(vote)

                def deliver_bytes(dst: str = dst, src: str = src_addr, d: bytes = data) -> None:
                    self._call(dst, lambda n: n.step(_dgram(src, d), self.now))

                self.at(t, deliver_bytes)
            else:

                def deliver_vote(dst: str = dst, src: str = src_addr, v: Any = vote) -> None:
                    self._call(dst, lambda n: n.step(VoteReceived(src=src, vote=v), self.now))

                self.at(t, deliver_vote)

    def _dial(self, src: str, eff: Dial) -> None:
        dst = self.by_message.get(eff.addr)
        if dst is not None and not self._passable(src, dst):
            conn = eff.conn
            self.at(
                self.now + self.connect_timeout,
                lambda: self._call(
                    src,
                    lambda n: n.step(
                        ConnectionClosed(conn=conn, reason="connect-timeout"), self.now
                    ),
                ),
            )
            return
        t = self.now + self._delay()
        a = Endpoint(host=src, conn=eff.conn, keepalive=self.keepalive_dial)
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
        b = Endpoint(host=dst, conn=hd.next_in_id, peer=a, keepalive=self.keepalive_accept)
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
        if isinstance(eff.msg, wire.Accept) and self.hosts[src].config.mode is not Mode.STANDALONE:
            self.violation(f"{src} ({self.hosts[src].config.mode.value}) sent {eff.msg}")
        a = self.endpoints.get((src, eff.conn))
        if a is None or not a.open or a.peer is None:
            return
        if a.stalled or not self._passable(a.host, a.peer.host):
            if not a.stalled:
                a.stalled_since = self.now
                self._check_later(a, self.rto, "timeout", stalled=True)
            a.stalled.append(eff.msg)
            return
        self._transmit(a, eff.msg)

    def _transmit(self, a: Endpoint, msg: Any) -> None:
        b = a.peer
        if not a.open or b is None:
            return
        if b.dead:
            self._reset(a)  # the far socket is gone: its kernel answers with a reset
            return
        self._schedule(a, msg)

    def _schedule(self, a: Endpoint, msg: Any) -> None:
        b = a.peer
        assert b is not None
        t = max(self.now + self._delay(), b.last_delivery)
        b.last_delivery = t
        if self.bytes_mode:
            data = wire.encode(msg)
            cut = self.rng.randint(0, len(data))
            for part in (data[:cut], data[cut:]):
                if part:
                    self.at(t, partial(self._deliver_bytes, b, part))
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
            if a.stalled or not self._passable(a.host, b.host):
                a.fin = True
                self.fin_pending.append(a)
                return
            t = max(self.now + self._delay(), b.last_delivery)
            self.at(t, lambda: self._eof(b))

    def _eof(self, b: Endpoint) -> None:
        if not b.open:
            return
        b.open = False
        self.endpoints.pop((b.host, b.conn), None)
        self._call(b.host, lambda n: n.step(ConnectionClosed(conn=b.conn, reason="eof"), self.now))

    def _reset(self, a: Endpoint) -> None:
        """A reset (crash, cut): both ends see an error; in-flight bytes are lost.

        Across a blackhole the reset is lost: the far end stays open, an orphan
        that learns at the heal or by its own timeout.
        """
        b = a.peer
        far = b is not None and self._passable(a.host, b.host)
        a.dead = True
        a.stalled = []
        if b is not None and b.open and not far:
            self._check_later(b, b.keepalive, "keepalive-timeout", stalled=False)
        for ep in (a, b) if far else (a,):
            if ep is not None and ep.open:
                ep.open = False
                self.endpoints.pop((ep.host, ep.conn), None)
                if self.hosts[ep.host].node is not None:
                    self.at(self.now + self._delay(), partial(self._reset_arrives, ep))

    def _reset_arrives(self, ep: Endpoint) -> None:
        """The peer's TCP reset reaches ``ep``'s host."""
        self._call(
            ep.host, lambda n: n.step(ConnectionClosed(conn=ep.conn, reason="reset"), self.now)
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


@dataclass(frozen=True)
class Family:
    """One shape of seeded run; ``extended`` adds blackholes, power-offs and small limits."""

    members: int
    watchers: int = 0
    embedded: bool = False
    extended: bool = False


FAMILIES: dict[str, Family] = {
    "3": Family(3),
    "5": Family(5),
    "bh3": Family(3, extended=True),
    "bh5": Family(5, extended=True),
    "w3": Family(3, watchers=2, extended=True),
    "emb": Family(1, watchers=3, embedded=True, extended=True),
}
"""Run families by id (``--sim-seed SEED:ID``). "3" and "5" are the original
runs (crashes, cuts, isolations) and replay exactly as before blackholes existed."""


def random_scenario(
    seed: int,
    n: int | str,
    duration: float = 6.0,
    *,
    trace: TraceHook | None = None,
) -> Simulator:
    """Cold start, a write load, crashes and partitions, then heal and settle."""
    fam = FAMILIES[str(n)]
    rng = random.Random(seed ^ 0x5EED)
    bytes_mode = rng.random() < 0.1
    drop = rng.choice([0, 0.02, 0.1])
    dup = rng.choice([0, 0.02, 0.1])
    limits = None
    if fam.extended:
        limits = Limits(
            max_outstanding_proposals=rng.choice([1, 2, 4, 10_000]),
            max_client_queue=rng.choice([3, 10_000]),
        )
    sim = Simulator(
        seed,
        fam.members,
        bytes_mode=bytes_mode,
        drop=drop,
        dup=dup,
        limits=limits,
        watchers=fam.watchers,
        embedded=fam.embedded,
        trace=trace,
    )
    for name in sim.hosts:
        sim.at(rng.random() * 0.05, partial(sim.start, name))
    names = list(sim.hosts)
    t = 0.3
    k = 0
    while t < duration:
        t += rng.expovariate(1 / 0.06)
        k += 1
        key, val = f"k{rng.randint(0, 9)}", f"v{k}".encode()
        sim.at(t, partial(_write, sim, rng, key, val))
    kinds = ["crash", "crash", "cut", "isolate"]
    if fam.extended:
        kinds += ["poweroff", "blackhole", "blackhole", "blackhole-isolate"]
    for _ in range(rng.randint(0, 5 if fam.extended else 4)):
        ft = rng.uniform(0.2, duration)
        kind = rng.choice(kinds)
        a, b = rng.sample(names, 2)
        if kind in ("crash", "poweroff"):
            down = sim.crash if kind == "crash" else sim.poweroff
            sim.at(ft, partial(down, a))
            sim.at(ft + rng.uniform(0.05, 1.5), partial(sim.start, a))
        elif kind == "cut":
            sim.at(ft, partial(sim.cut, a, b))
            sim.at(ft + rng.uniform(0.1, 1.5), sim.recover)
        elif kind == "isolate":
            sim.at(ft, partial(sim.isolate, a))
            sim.at(ft + rng.uniform(0.1, 1.5), sim.recover)
        elif kind == "blackhole":
            sim.at(ft, partial(sim.blackhole, a, b))
            sim.at(ft + rng.uniform(0.1, 4.0), sim.recover)
        else:
            sim.at(ft, partial(sim.blackhole_isolate, a))
            sim.at(ft + rng.uniform(0.1, 4.0), sim.recover)
    sim.at(duration, sim.recover)
    for name in names:
        sim.at(duration, partial(sim.start, name))
    return sim


def _write(sim: Simulator, rng: random.Random, key: str, val: bytes) -> None:
    alive = sim.alive()
    if alive:
        sim.client_set(rng.choice(alive), key, val)


def run_seed(
    seed: int,
    n: int | str,
    duration: float = 6.0,
    settle: float = 3.0,
    *,
    trace: TraceHook | None = None,
) -> Simulator:
    """One seeded run of family ``n`` (see :data:`FAMILIES`), checked at the end."""
    sim = random_scenario(seed, n, duration, trace=trace)
    sim.run_until(duration + settle)
    for h in sim.hosts.values():
        if h.node is not None:
            h.storage.flush(sim, h.name)
    sim.check()
    return sim
