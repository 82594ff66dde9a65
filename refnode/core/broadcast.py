"""Broadcast phase, both roles (spec §6, gometa ``leader.go``/``follower.go``).

Theory of operation
-------------------
*Leader.* :class:`LeaderRole` owns the run's :class:`LeaderDiscovery` and the
broadcast state. Client requests (local, or ``Request`` frames from synced
followers and watchers) become Proposals numbered ``epoch<<32 | counter``;
the leader logs each one (persist before send), sends it to every synced
peer and queues it in every syncing peer's observer, and counts its own
Accept. An ``Accept`` counts for the follower *whose connection carries it*;
a body ``fid`` that disagrees closes the connection (W27), and an Accept for
a txid that was never proposed counts for nothing (W28). Proposals commit
strictly in txid order once a majority accepted them; each commit is
persisted before its ``Commit`` frames and the client's reply go out. At
most ``Limits.max_outstanding_proposals`` Proposals are in flight; later
writes (local or forwarded) wait in a FIFO backlog of at most
``max_client_queue`` and are proposed as commits free slots; beyond that a
local client gets "queue full" and a forwarded Request an ``Abort`` (W8: the
leader answers instead of blocking). The
leader steps down (ends the run) when, after it became ready, its voting
followers no longer form a majority with it (spec §6.5).

*Follower / watcher.* :class:`FollowerRole` runs :class:`FollowerSync` on its
one connection, then logs each Proposal, Accepts it (followers only), and
commits each Commit, which must name the oldest pending Proposal. A Commit
for something already committed is ignored rather than re-applied (W31);
Proposals must increase and belong to the current epoch.

Both tables below list what each state accepts; a pair missing from a table
is ignored when gometa ignores it, or fails the connection when gometa
fails it.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from wire import (
    CUSTOM_OPCODE_THRESHOLD,
    Abort,
    Accept,
    Commit,
    Message,
    Proposal,
    Request,
    Response,
)

from .context import MAX_COUNTER, Context, is_applicable
from .discovery import FollowerSync, LeaderDiscovery, LeaderSync, m_txid
from .effects import (
    ClientReply,
    EpochEstablished,
    FollowerSynced,
    LeaderReady,
    PeerDropped,
    ProposalCommitted,
)
from .errors import RemoteProtocolError
from .quorum import lost_quorum

NO_HANDLER = "No custom request handler"
TERMINATED = "Server Error : Terminate Request due to server termination"
QUEUE_FULL = "Server Error : queue full"


class BroadcastInput(enum.Enum):
    RECV_REQUEST = "RECV_REQUEST"
    RECV_ACCEPT = "RECV_ACCEPT"
    RECV_PROPOSAL = "RECV_PROPOSAL"
    RECV_COMMIT = "RECV_COMMIT"
    RECV_ABORT = "RECV_ABORT"
    RECV_RESPONSE = "RECV_RESPONSE"
    RECV_OTHER = "RECV_OTHER"


BI = BroadcastInput

BROADCAST_INPUT: dict[type, BroadcastInput] = {
    Request: BI.RECV_REQUEST,
    Accept: BI.RECV_ACCEPT,
    Proposal: BI.RECV_PROPOSAL,
    Commit: BI.RECV_COMMIT,
    Abort: BI.RECV_ABORT,
    Response: BI.RECV_RESPONSE,
}


class PeerKind(enum.Enum):
    FOLLOWER = "FOLLOWER"
    WATCHER = "WATCHER"


LEADER_TRANSITIONS: dict[tuple[PeerKind, BroadcastInput], str] = {
    (PeerKind.FOLLOWER, BI.RECV_REQUEST): "propose",
    (PeerKind.FOLLOWER, BI.RECV_ACCEPT): "accept",
    (PeerKind.FOLLOWER, BI.RECV_PROPOSAL): "ignore",
    (PeerKind.FOLLOWER, BI.RECV_COMMIT): "ignore",
    (PeerKind.FOLLOWER, BI.RECV_ABORT): "ignore",
    (PeerKind.FOLLOWER, BI.RECV_RESPONSE): "ignore",
    (PeerKind.FOLLOWER, BI.RECV_OTHER): "ignore",
    (PeerKind.WATCHER, BI.RECV_REQUEST): "propose",
    (PeerKind.WATCHER, BI.RECV_ACCEPT): "ignore",
    (PeerKind.WATCHER, BI.RECV_PROPOSAL): "ignore",
    (PeerKind.WATCHER, BI.RECV_COMMIT): "ignore",
    (PeerKind.WATCHER, BI.RECV_ABORT): "ignore",
    (PeerKind.WATCHER, BI.RECV_RESPONSE): "ignore",
    (PeerKind.WATCHER, BI.RECV_OTHER): "ignore",
}
"""Leader broadcast table: (kind of synced peer, input) -> action."""


@dataclass(slots=True)
class Pending:
    """A proposal in flight at the leader."""

    proposal: Proposal
    accepts: set[str] = field(default_factory=set)
    request_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """A valid write waiting for a proposal slot (``max_outstanding_proposals``)."""

    fid: str
    conn: int | None
    """The follower connection it came on; None for a local client."""
    req_id: int
    op: int
    key: str
    value: bytes
    request_id: int | None


class LeaderRole:
    """Leader of one run: discovery of every connection, then broadcast."""

    def __init__(
        self,
        ctx: Context,
        *,
        ensemble_size: int,
        quorum: Callable[[int], bool],
        member_fids: frozenset[str],
        embedded: bool,
        now: float,
        on_epoch: Callable[[int], None],
    ) -> None:
        self.ctx = ctx
        self.ensemble_size = ensemble_size
        self.quorum = quorum
        self.embedded = embedded
        self.on_epoch_cb = on_epoch
        self.peers: dict[int, tuple[str, PeerKind]] = {}
        self.by_fid: dict[str, int] = {}
        self.pending: dict[int, Pending] = {}
        self.last_committed = ctx.state.last_committed_txid
        self.epoch = 0
        self.counter = 0
        self.ready = False
        self.ended: str | None = None
        self.ready_deadline: float | None = None if embedded else now + ctx.limits.leader_timeout
        self.queued: deque[tuple[int, int, str, bytes]] = deque()
        self.backlog: deque[Waiting] = deque()
        """Writes beyond ``max_outstanding_proposals``, proposed in arrival order."""
        self._releasing = False
        self.disc = LeaderDiscovery(
            ctx,
            quorum=quorum,
            member_fids=member_fids,
            on_established=self._established,
            on_synced=self._synced,
            on_epoch=self._on_epoch,
            last_committed=lambda: self.last_committed,
            embedded=embedded,
        )

    def start(self) -> None:
        self.disc.start()

    # -- discovery callbacks -----------------------------------------------------

    def _on_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.counter = 0
        self.ctx.emit(EpochEstablished(epoch=epoch))
        self.on_epoch_cb(epoch)

    def _established(self) -> None:
        """ZAB: the new leader's whole log is committed once a quorum holds it."""
        st = self.ctx.state
        for txid in sorted(t for t in st.log if t > self.last_committed and t not in st.committed):
            self._commit(txid)
        if self.ensemble_size == 1 or self.embedded:
            self._become_ready()

    def _become_ready(self) -> None:
        if self.ready:
            return
        self.ready = True
        self.ready_deadline = None
        self.ctx.emit(LeaderReady(epoch=self.epoch))
        while self.queued and self.ended is None:
            rid, op, key, value = self.queued.popleft()
            self.client_request(rid, op, key, value)

    def _synced(self, s: LeaderSync) -> None:
        kind = PeerKind.FOLLOWER if (s.voting and s.counted) else PeerKind.WATCHER
        old = self.by_fid.get(s.fid)
        if old is not None and old != s.conn:
            # gometa's AddFollower terminates the previous pipe of this fid.
            self.peers.pop(old, None)
            self.ctx.close(old, "replaced-by-new-sync")
        for msg in s.observer:
            self.ctx.send(s.conn, msg)
        self.peers[s.conn] = (s.fid, kind)
        self.by_fid[s.fid] = s.conn
        self.ctx.emit(FollowerSynced(fid=s.fid, voting=kind is PeerKind.FOLLOWER))
        if kind is PeerKind.FOLLOWER:
            self._become_ready()
        for msg in s.held:
            if s.conn not in self.peers:
                break
            self.receive(s.conn, msg)

    # -- connections -------------------------------------------------------------

    def accept_connection(self, conn: int, now: float) -> None:
        self.disc.add(conn, now)

    def receive(self, conn: int, msg: Message) -> None:
        if conn in self.disc.syncs:
            self.disc.receive(conn, msg)
            return
        peer = self.peers.get(conn)
        if peer is None:
            return
        fid, kind = peer
        inp = BROADCAST_INPUT.get(type(msg), BI.RECV_OTHER)
        action = LEADER_TRANSITIONS[(kind, inp)]
        self.ctx.trace(
            "leader_broadcast", kind.value, inp.value, kind.value, conn=conn, action=action
        )
        if action == "propose":
            assert isinstance(msg, Request)
            self._remote_request(conn, fid, msg)
        elif action == "accept":
            assert isinstance(msg, Accept)
            if msg.fid != fid:
                self.drop(conn, "accept-fid-mismatch")
                raise RemoteProtocolError(
                    "accept-fid-mismatch", f"connection of {fid!r} sent Accept for {msg.fid!r}"
                )
            self._accept(msg.txnid, fid)

    def connection_closed(self, conn: int) -> None:
        if conn in self.disc.syncs:
            self.disc.fail(conn, "closed")
            return
        self.drop(conn, "closed", close=False)

    def drop(self, conn: int, reason: str, *, close: bool = True) -> None:
        peer = self.peers.pop(conn, None)
        if peer is None:
            return
        fid, kind = peer
        if self.by_fid.get(fid) == conn:
            del self.by_fid[fid]
        if close:
            self.ctx.close(conn, reason)
        self.ctx.emit(PeerDropped(conn=conn, reason=reason))
        if kind is PeerKind.FOLLOWER and self.ready and not self.embedded:
            followers = sum(1 for _, k in self.peers.values() if k is PeerKind.FOLLOWER)
            if lost_quorum(followers, self.ensemble_size):
                self.ended = "lost-quorum"

    def check_timers(self, now: float) -> None:
        for conn in self.disc.expired(now):
            self.disc.fail(conn, "sync-timeout")
        if self.ready_deadline is not None and now >= self.ready_deadline and not self.ready:
            self.ended = "leader-timeout"

    def next_deadline(self) -> float | None:
        ds = [d for d in (self.disc.next_deadline(), self.ready_deadline) if d is not None]
        return min(ds) if ds else None

    # -- requests and proposals -----------------------------------------------------

    def client_request(self, request_id: int, op: int, key: str, value: bytes) -> None:
        if not self.ready:
            if len(self.queued) >= self.ctx.limits.max_client_queue:
                self.ctx.emit(ClientReply(request_id=request_id, error=QUEUE_FULL))
            else:
                self.queued.append((request_id, op, key, value))
            return
        if op > CUSTOM_OPCODE_THRESHOLD:
            self.ctx.emit(ClientReply(request_id=request_id, error=NO_HANDLER))
            return
        if not is_applicable(op):
            self.ctx.emit(
                ClientReply(request_id=request_id, error=f"Undefined Error : Invalid Op code {op}")
            )
            return
        req_id = self.ctx.rng.getrandbits(64)
        self._admit(
            Waiting(
                fid=self.ctx.fid,
                conn=None,
                req_id=req_id,
                op=op,
                key=key,
                value=value,
                request_id=request_id,
            )
        )

    def _remote_request(self, conn: int, fid: str, msg: Request) -> None:
        if msg.op_code > CUSTOM_OPCODE_THRESHOLD:
            self.ctx.send(conn, Response(req_id=msg.req_id, fid=fid, error=NO_HANDLER))
            return
        if not is_applicable(msg.op_code):
            # gometa would log it and break later syncs or its own commit (W29).
            self.ctx.send(
                conn,
                Abort(
                    req_id=msg.req_id,
                    fid=fid,
                    error=f"Undefined Error : Invalid Op code {msg.op_code}",
                ),
            )
            return
        self._admit(
            Waiting(
                fid=fid,
                conn=conn,
                req_id=msg.req_id,
                op=msg.op_code,
                key=msg.key,
                value=msg.content,
                request_id=None,
            )
        )

    def _admit(self, w: Waiting) -> None:
        """Propose ``w`` now, or queue it while ``max_outstanding_proposals`` are
        in flight (W8: the leader never blocks; a full queue answers at once)."""
        lim = self.ctx.limits
        if not self.backlog and len(self.pending) < lim.max_outstanding_proposals:
            self._propose(w.fid, w.req_id, w.op, w.key, w.value, w.request_id)
            return
        if len(self.backlog) >= lim.max_client_queue:
            if w.request_id is not None:
                self.ctx.emit(ClientReply(request_id=w.request_id, error=QUEUE_FULL))
            elif w.conn is not None and w.conn in self.peers:
                self.ctx.send(w.conn, Abort(req_id=w.req_id, fid=w.fid, error=QUEUE_FULL))
            return
        self.backlog.append(w)

    def _release_backlog(self) -> None:
        """Propose waiting writes while slots are free (not re-entrant)."""
        if self._releasing:
            return
        self._releasing = True
        try:
            lim = self.ctx.limits.max_outstanding_proposals
            while self.backlog and len(self.pending) < lim and self.ended is None:
                w = self.backlog.popleft()
                self._propose(w.fid, w.req_id, w.op, w.key, w.value, w.request_id)
        finally:
            self._releasing = False

    def _propose(
        self, fid: str, req_id: int, op: int, key: str, value: bytes, request_id: int | None
    ) -> None:
        if self.counter >= MAX_COUNTER - 1:
            self.ended = "txid-counter-exhausted"
            if request_id is not None:
                self.ctx.emit(ClientReply(request_id=request_id, error=TERMINATED))
            return
        self.counter += 1
        txid = (self.epoch << 32) | self.counter
        proposal = Proposal(txnid=txid, fid=fid, req_id=req_id, op_code=op, key=key, content=value)
        self.ctx.log_append(txid, op, key, value)
        p = Pending(proposal=proposal, accepts={self.ctx.fid}, request_id=request_id)
        self.pending[txid] = p
        self._broadcast(proposal)
        self._try_commit()

    def _broadcast(self, msg: Message) -> None:
        for conn in self.peers:
            self.ctx.send(conn, msg)
        for conn in self.disc.observe(msg):
            self.disc.fail(conn, "observer-full")

    def _accept(self, txid: int, fid: str) -> None:
        if txid <= self.last_committed:
            return
        p = self.pending.get(txid)
        if p is None:
            return  # never proposed: counts for nothing (W28)
        p.accepts.add(fid)
        self._try_commit()

    def _try_commit(self) -> None:
        while self.pending:
            txid = min(self.pending)
            p = self.pending[txid]
            if not self.quorum(len(p.accepts)):
                break
            del self.pending[txid]
            self._commit(txid, p.request_id)
        if self.backlog:
            self._release_backlog()

    def _commit(self, txid: int, request_id: int | None = None) -> None:
        self.ctx.commit(txid)
        self.last_committed = max(self.last_committed, txid)
        self._broadcast(Commit(txnid=txid))
        self.ctx.emit(ProposalCommitted(txid=txid))
        if request_id is not None:
            self.ctx.emit(ClientReply(request_id=request_id, txid=txid))

    def terminate(self) -> None:
        """End of run: every waiting client hears that the server terminated."""
        for p in self.pending.values():
            if p.request_id is not None:
                self.ctx.emit(ClientReply(request_id=p.request_id, error=TERMINATED))
        self.pending.clear()
        for rid, *_ in self.queued:
            self.ctx.emit(ClientReply(request_id=rid, error=TERMINATED))
        self.queued.clear()
        for w in self.backlog:
            if w.request_id is not None:
                self.ctx.emit(ClientReply(request_id=w.request_id, error=TERMINATED))
        self.backlog.clear()
        self.disc.syncs.clear()
        self.peers.clear()


class FollowerPhase(enum.Enum):
    SYNCING = "SYNCING"
    BROADCAST = "BROADCAST"


FOLLOWER_TRANSITIONS: dict[tuple[FollowerPhase, BroadcastInput], str] = {
    (FollowerPhase.BROADCAST, BI.RECV_PROPOSAL): "log",
    (FollowerPhase.BROADCAST, BI.RECV_COMMIT): "commit",
    (FollowerPhase.BROADCAST, BI.RECV_ABORT): "abort",
    (FollowerPhase.BROADCAST, BI.RECV_RESPONSE): "respond",
    (FollowerPhase.BROADCAST, BI.RECV_ACCEPT): "ignore",
    (FollowerPhase.BROADCAST, BI.RECV_REQUEST): "ignore",
    (FollowerPhase.BROADCAST, BI.RECV_OTHER): "ignore",
}
"""Follower broadcast table. While SYNCING, :class:`FollowerSync` decides."""


class FollowerRole:
    """Follower (``voting``) or watcher of one run, on one dialled connection."""

    def __init__(
        self,
        ctx: Context,
        *,
        conn: int,
        leader_id: str,
        voting: bool,
        now: float,
        on_epoch: Callable[[int], None],
    ) -> None:
        self.ctx = ctx
        self.conn = conn
        self.voting = voting
        self.on_epoch = on_epoch
        self.sync = FollowerSync(
            ctx,
            conn=conn,
            leader_id=leader_id,
            voting=voting,
            deadline=now + ctx.limits.sync_timeout,
        )
        self.phase = FollowerPhase.SYNCING
        self.pending: deque[int] = deque()
        self.last_proposed = 0
        self.requests: dict[int, int] = {}
        self.proposed: dict[int, int] = {}
        self.queued: deque[tuple[int, int, str, bytes]] = deque()
        self.ended: str | None = None

    def connected(self) -> None:
        self.sync.connected()

    def receive(self, msg: Message) -> None:
        if self.phase is FollowerPhase.SYNCING:
            if self.sync.receive(msg):
                self.phase = FollowerPhase.BROADCAST
                self.on_epoch(self.ctx.state.current_epoch)
                while self.queued:
                    self.client_request(*self.queued.popleft())
            return
        inp = BROADCAST_INPUT.get(type(msg), BI.RECV_OTHER)
        action = FOLLOWER_TRANSITIONS[(self.phase, inp)]
        phase = self.phase.value
        self.ctx.trace("follower_broadcast", phase, inp.value, phase, conn=self.conn, action=action)
        if action == "log":
            assert isinstance(msg, Proposal)
            self._proposal(msg)
        elif action == "commit":
            assert isinstance(msg, Commit)
            self._commit(msg.txnid)
        elif action in ("abort", "respond"):
            assert isinstance(msg, Abort | Response)
            self._answer(msg)

    def _proposal(self, msg: Proposal) -> None:
        st = self.ctx.state
        if msg.txnid <= self.last_proposed or (msg.txnid >> 32) != st.current_epoch:
            raise RemoteProtocolError(
                "proposal-out-of-order", f"txid {msg.txnid:#x} after {self.last_proposed:#x}"
            )
        self.last_proposed = msg.txnid
        self.ctx.log_append(msg.txnid, msg.op_code, msg.key, msg.content)
        self.pending.append(msg.txnid)
        if self.voting:
            self.ctx.send(self.conn, Accept(txnid=msg.txnid, fid=self.ctx.fid))
        if msg.fid == self.ctx.fid:
            rid = self.requests.pop(msg.req_id, None)
            if rid is not None:
                self.proposed[msg.txnid] = rid

    def _commit(self, txid: int) -> None:
        st = self.ctx.state
        if txid in st.committed or txid <= st.last_committed_txid:
            return  # a stale or repeated Commit never rolls data back (W31)
        if self.pending and self.pending[0] == txid:
            self.pending.popleft()
        elif txid not in st.log or (self.pending and txid > self.pending[0]):
            raise RemoteProtocolError(
                "commit-out-of-order",
                f"Commit {txid:#x}, pending {self.pending[0] if self.pending else 0:#x}",
            )
        # else: an entry the sync stream logged uncommitted, committed in order
        self.ctx.commit(txid)
        self.ctx.emit(ProposalCommitted(txid=txid))
        rid = self.proposed.pop(txid, None)
        if rid is not None:
            self.ctx.emit(ClientReply(request_id=rid, txid=txid))

    def _answer(self, msg: Abort | Response) -> None:
        if msg.fid != self.ctx.fid:
            return
        rid = self.requests.pop(msg.req_id, None)
        if rid is None:
            return
        if isinstance(msg, Abort):
            self.ctx.emit(ClientReply(request_id=rid, error=msg.error or "Aborted"))
        else:
            self.ctx.emit(
                ClientReply(request_id=rid, error=msg.error or None, result=msg.content or b"")
            )

    def client_request(self, request_id: int, op: int, key: str, value: bytes) -> None:
        if self.phase is not FollowerPhase.BROADCAST:
            if len(self.queued) >= self.ctx.limits.max_client_queue:
                self.ctx.emit(ClientReply(request_id=request_id, error=QUEUE_FULL))
            else:
                self.queued.append((request_id, op, key, value))
            return
        req_id = self.ctx.rng.getrandbits(64)
        self.requests[req_id] = request_id
        self.ctx.send(self.conn, Request(req_id=req_id, op_code=op, key=key, content=value))

    def check_timers(self, now: float) -> None:
        if self.phase is FollowerPhase.SYNCING and now >= self.sync.deadline:
            self.ended = "sync-timeout"

    def next_deadline(self) -> float | None:
        return self.sync.deadline if self.phase is FollowerPhase.SYNCING else None

    def terminate(self) -> None:
        for rid in [*self.requests.values(), *self.proposed.values()]:
            self.ctx.emit(ClientReply(request_id=rid, error=TERMINATED))
        for rid, *_ in self.queued:
            self.ctx.emit(ClientReply(request_id=rid, error=TERMINATED))
        self.requests.clear()
        self.proposed.clear()
        self.queued.clear()


__all__ = ["LeaderRole", "FollowerRole", "m_txid"]
